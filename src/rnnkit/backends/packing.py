"""The weights as the compiled loop reads them: column panels with each gate block padded to Hp
units (csrc/gemm.h). Packing reads the whole weight, so it is done once per weight version and
kept until the weight changes: an optimizer step, `set_weights` or any in-place change under
`torch.no_grad()` bumps the tensor's version counter and so repacks.

Not seen: in-place changes made through `weight.data`, which has a version counter of its own
(autograd's saved-tensor checks have the same blind spot).
"""

from __future__ import annotations

import weakref

from torch import Tensor

from . import native

# id(weight) → (weak reference to it, {kind: (key, its storage, panels)}); the storage is held so
# that a freed weight's address cannot come back as a new weight's with the same version.
_PANELS: dict[int, tuple[weakref.ref, dict]] = {}


def _cached(weight: Tensor, kind: tuple, make) -> Tensor:
    try:
        version = weight._version
    except RuntimeError:  # an inference-mode tensor: no version counter, nothing to key on
        return make()
    key = (kind, native.module().ISA, weight.data_ptr(), version, tuple(weight.shape), weight.stride())
    slot = _PANELS.get(id(weight))
    if slot is None or slot[0]() is not weight:
        ref = weakref.ref(weight, lambda _, i=id(weight): _PANELS.pop(i, None))
        slot = _PANELS[id(weight)] = (ref, {})
    entry = slot[1].get(kind[0])
    if entry is not None and entry[0] == key:
        return entry[2]
    panels = make()
    slot[1][kind[0]] = (key, weight.untyped_storage(), panels)
    return panels


def panels(weight: Tensor, gates: int, units: int, hp: int) -> Tensor:
    """A (K, G·H) kernel or recurrent kernel as G·Hp / W panels of K × W floats."""
    def make():
        w = weight.detach().contiguous()
        out = w.new_empty((w.shape[0] * gates * hp,))
        native.module().pack(G=gates, K=w.shape[0], H=units, Hp=hp, weight=native.buf(w),
                             out=native.buf(out))
        return out
    return _cached(weight, ("panels", gates, hp), make)


def transposed_panels(recurrent_kernel: Tensor, gates: int, units: int, hp: int) -> Tensor:
    """The transpose of a (H, G·H) recurrent kernel, padded, as Hp / W panels of G·Hp × W."""
    def make():
        u = recurrent_kernel.detach().contiguous()
        out = u.new_empty((gates * hp * hp,))
        native.module().pack_transposed(G=gates, H=units, Hp=hp, weight=native.buf(u),
                                        out=native.buf(out))
        return out
    return _cached(recurrent_kernel, ("transposed", gates, hp), make)
