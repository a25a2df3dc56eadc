"""Keras 3's Circle loss: metric learning on L2-normalized embeddings with integer labels."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import as_float


def _pos_neg_masks(query_labels, key_labels, remove_diagonal):
    """Pairs with equal labels (without each sample's pair with itself) and unequal labels."""
    positive = query_labels.reshape(-1, 1) == key_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        eye = torch.eye(*positive.shape, dtype=torch.bool, device=positive.device)
        positive = positive & ~eye
    return positive, negative


def circle_with_mask(y_true, y_pred, ref_labels=None, ref_embeddings=None,
                     remove_diagonal=True, gamma=80, margin=0.4):
    """circle's per-sample values and the mask of the samples with a positive loss (Keras
    leaves the others, samples without a positive or negative pair, out of the mean)."""
    y_pred = as_float(y_pred)
    labels = torch.as_tensor(y_true, device=y_pred.device).to(torch.int32)
    ref = y_pred if ref_embeddings is None else as_float(ref_embeddings, like=y_pred)
    ref_labels = labels if ref_labels is None else torch.as_tensor(ref_labels).to(torch.int32)
    distances = torch.clamp(1 - y_pred @ ref.transpose(0, 1), min=0.0)
    positive, negative = _pos_neg_masks(labels, ref_labels, remove_diagonal)
    # Pairs far from their optimum weigh more: alpha_p = [O_p - s_p]+, alpha_n = [s_n - O_n]+
    # with similarity s = 1 - distance, O_p = 1 + m, O_n = -m; margins Δp = 1 - m, Δn = m.
    pos_weights = torch.clamp((margin + distances) * positive, min=0.0)
    neg_weights = torch.clamp((1 + margin - distances) * negative, min=0.0)
    pos_logits = -gamma * pos_weights * (margin - distances)
    neg_logits = gamma * neg_weights * (1 - margin - distances)
    minus_inf = torch.full((), float("-inf"), dtype=distances.dtype, device=distances.device)
    p_loss = torch.logsumexp(torch.where(positive, pos_logits, minus_inf), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_logits, minus_inf), dim=1)
    values = F.softplus(p_loss + n_loss)
    return values, values > 0


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    """The Circle loss (Sun et al., 2020) of L2-normalized embeddings `y_pred` (batch, dim)
    with integer labels `y_true` (batch,), against themselves or `ref_embeddings` with
    `ref_labels`: softplus(logsumexp over positive pairs + logsumexp over negative pairs).

    >>> e = torch.nn.functional.normalize(torch.tensor([[1.0, 0.1], [0.9, 0.2], [0.0, 1.0]]))
    >>> circle(torch.tensor([0, 0, 1]), e).shape
    torch.Size([3])
    """
    return circle_with_mask(y_true, y_pred, ref_labels, ref_embeddings, remove_diagonal,
                            gamma, margin)[0]
