"""The configs a model file keeps beside its weights: how the model was compiled, and which
model its config describes (rnnkit's classes, or a user's from `custom_objects` and the
`rnnkit.saving` registry)."""

from __future__ import annotations

from .. import losses, optimizers


def compile_config(model) -> dict | None:
    if not model.compiled:
        return None
    opt = model.optimizer
    return {
        "optimizer": ({"class_name": type(opt).__name__, "config": opt.get_config()}
                      if isinstance(opt, optimizers.Optimizer) else None),
        "loss": _serialize_losses(model.loss),
        "loss_weights": getattr(model, "loss_weights", None),
        "metrics": _named_metrics(model._metric_ids),
        "weighted_metrics": _named_metrics(getattr(model, "_weighted_metric_ids", [])),
    }


def _serialize_losses(loss):
    if isinstance(loss, dict):
        return {k: _serialize_losses(v) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_serialize_losses(v) for v in loss]
    return None if loss is None else losses.serialize(loss)


def _named_metrics(ids):
    """The metrics given by name (functions and objects are not kept), in their structure."""
    if isinstance(ids, dict):
        return {k: _named_metrics(v) for k, v in ids.items()}
    if isinstance(ids, (list, tuple)):
        return [v for v in (_named_metrics(i) for i in ids) if v is not None and v != []]
    return ids if isinstance(ids, str) else None


def model_from_config(config: dict, custom_objects=None):
    from .functional_config import deserialize_layer
    from .model import Model

    name = config.get("class_name")
    from ..saving import get_custom_objects

    known = {"Sequential", "Functional", "Model", *get_custom_objects(), *(custom_objects or {})}
    if name not in known:
        raise ValueError(f"unknown model class {name!r}; a model of your own class loads with "
                         f"load_model(path, custom_objects={{{name!r}: {name}}}).")
    model = deserialize_layer({"class_name": name, "config": config.get("config") or {}},
                              custom_objects)
    if not isinstance(model, Model):
        raise ValueError(f"{name!r} is not a model class.")
    build = (config.get("build_config") or {}).get("input_shape")
    if not model.built and build is not None:
        model.build(build)
    return model
