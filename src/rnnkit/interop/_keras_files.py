"""Reading a Keras file's parts as data: the zip's members and the HDF5 weights, one hard link
at a time, every size checked against the load limit before it is read (see keras.py)."""

from __future__ import annotations

import io
import zipfile

from ..models import saving

# HDF5's built-in filters (deflate, shuffle, fletcher32, szip, nbit, scaleoffset) and h5py's lzf;
# any other is a plugin, a shared library HDF5 would load to read the dataset.
_HDF5_FILTERS = (1, 2, 3, 4, 5, 6, 32000)


def require_h5py():
    try:
        import h5py
    except ImportError as err:
        raise ImportError("rnnkit.interop.load_keras reads Keras files with h5py, which is not "
                          "installed; pip install rnnkit[keras]") from err
    return h5py


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


# -- reading the files --------------------------------------------------------------------------
def read(file, source: str, h5py, max_bytes):
    """(model config record, compile config or None, weights source) of a Keras file."""
    if zipfile.is_zipfile(file):
        with saving.ZipArchive(file, saving.Budget(source, max_bytes)) as archive:
            names = archive.names
            if "config.json" not in names or "model.weights.h5" not in names:
                hint = (" It is an rnnkit model file; load it with rnnkit.models.load_model."
                        if "model.safetensors" in names else "")
                raise ValueError(f"expected a Keras .keras archive (config.json and "
                                 f"model.weights.h5), got members {sorted(names)}.{hint}")
            record = saving.parse_json(archive.read("config.json"), "config.json")
            weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        store = _Store(h5py, weights, saving.Budget(source, max_bytes))
        return record, record.get("compile_config"), _Keras3Weights(store)
    if not h5py.is_hdf5(source):
        raise ValueError("not a Keras model file; expected a .keras zip archive or a legacy .h5 "
                         "HDF5 file.")
    store = _Store(h5py, h5py.File(file, "r"), saving.Budget(source, max_bytes))
    try:
        attrs = store.file.attrs
        if "model_config" not in attrs:
            raise ValueError("this HDF5 file holds no Keras model config (attribute "
                             "'model_config'); a weights-only file (save_weights) cannot be "
                             "loaded on its own.")
        training = attrs.get("training_config")
        compile_config = None
        if training is not None:
            training = saving.parse_json(_text(training), "the training_config attribute")
            compile_config = {**training, "optimizer": training.get("optimizer_config")}
        record = saving.parse_json(_text(attrs["model_config"]), "the model_config attribute")
        return record, compile_config, _LegacyWeights(store)
    except BaseException:
        store.close()
        raise


class _Store:
    """An HDF5 weights file read without leaving it: only hard links are followed (an external
    link reads another file, a soft link can loop), datasets kept in external files or mapped
    from them (virtual) and plugin filters are refused, and each dataset's size is taken from
    the budget before it is read."""

    def __init__(self, h5py, f, budget):
        self.h5py, self.file, self.budget = h5py, f, budget

    def close(self):
        self.file.close()

    def get(self, group, path: str):
        """group[path], one link at a time; None where a name is missing."""
        node = group
        for name in (n for n in path.split("/") if n not in ("", ".")):
            if not isinstance(node, self.h5py.Group):
                raise ValueError(f"HDF5 object {node.name} is not a group; expected {name!r} "
                                 "in it.")
            link = node.get(name, getlink=True)
            if link is None:
                return None
            if not isinstance(link, self.h5py.HardLink):
                external = isinstance(link, self.h5py.ExternalLink)
                what = (f"an external link to {link.filename}:{link.path}" if external
                        else f"a soft link to {link.path}")
                raise ValueError(f"HDF5 object {node.name.rstrip('/')}/{name} is {what}; "
                                 "load_keras reads only data stored in the file itself.")
            node = node[name]
        return node

    def names(self, group) -> list[str]:
        if not isinstance(group, self.h5py.Group):
            raise ValueError(f"HDF5 object {group.name} is not a group.")
        return list(group)

    def array(self, node):
        if not isinstance(node, self.h5py.Dataset):
            raise ValueError(f"HDF5 object {node.name} is not a dataset of weights.")
        where = f"HDF5 dataset {node.name}"
        if node.is_virtual:
            raise ValueError(f"{where} is a virtual dataset, mapped from other files; load_keras "
                             "reads only data stored in the file itself.")
        if node.external:
            raise ValueError(f"{where} keeps its data in external files "
                             f"{[entry[0] for entry in node.external]}; load_keras reads only "
                             "data stored in the file itself.")
        plist = node.id.get_create_plist()
        for i in range(plist.get_nfilters()):
            code, _, _, name = plist.get_filter(i)
            if code not in _HDF5_FILTERS:
                raise ValueError(f"{where} needs HDF5 filter {code} ({_text(name)}), which HDF5 "
                                 "would load from a plugin; load_keras reads only HDF5's own.")
        if node.dtype.kind not in "biuf":
            raise ValueError(f"{where} holds {node.dtype}, expected numbers.")
        self.budget.take(node.size * node.dtype.itemsize, where)
        return node[()]


class _Keras3Weights:
    """Arrays under layers/<key>/: the layer's own vars, then those of its parts (an RNN's
    cell, a StackedRNNCells' cells keyed as Keras keys a list, a wrapper's layers)."""

    _PARTS = ("cell", "layer", "forward_layer", "backward_layer")

    def __init__(self, store):
        self.store = store

    def close(self):
        self.store.close()

    def arrays(self, layer, key, path="layers"):
        """A layer's arrays; a model's are its layers', under <key>/layers/<their keys>."""
        from ..models.model import Model
        from ..models.weights import layer_keys

        if isinstance(layer, Model):
            inner = f"{path}/{key}/layers"
            return [a for sub, subkey in zip(layer.layers, layer_keys(layer.layers))
                    for a in self.arrays(sub, subkey, inner)]
        group = self.store.get(self.store.file, f"{path}/{key}")
        return [] if group is None else self._collect(group, layer)

    def _collect(self, group, owner):
        arrays = []
        variables = self.store.get(group, "vars")
        if variables is not None:
            arrays += [self.store.array(self.store.get(variables, name))
                       for name in sorted(self.store.names(variables), key=int)]
        # a layer with sublayers of its own names them in `_keras_parts` (MultiHeadAttention)
        for part in self._PARTS + tuple(getattr(owner, "_keras_parts", ())):
            found = self.store.get(group, part)
            if found is not None:
                arrays += self._collect(found, getattr(owner, part, None))
        cells = self.store.get(group, "cells")
        if cells is not None:
            arrays += self._collect_cells(cells, owner)
        return arrays

    def _collect_cells(self, group, owner):
        """A StackedRNNCells' cells, in the order of the owner's cells (HDF5 lists names
        alphabetically: "gru_cell_1" would come before "lstm_cell")."""
        from ..layers.cell_protocol import cell_keys

        cells = list(getattr(owner, "cells", None) or [])
        keys = cell_keys(cells)
        extra = sorted(set(self.store.names(group)) - set(keys))
        if extra:
            raise ValueError(f"HDF5 group {group.name} holds cells {extra}, which the layer's "
                             f"cells ({', '.join(keys) or 'none'}) do not name.")
        arrays = []
        for key, cell in zip(keys, cells):
            found = self.store.get(group, key)
            if found is not None:
                arrays += self._collect(found, cell)
        return arrays


class _LegacyWeights:
    """Arrays of model_weights/<layer name>, in the order of its weight_names attribute."""

    def __init__(self, store):
        self.store = store
        root = store.get(store.file, "model_weights")
        self.root = store.file if root is None else root

    def close(self):
        self.store.close()

    def arrays(self, layer, key):
        group = self.store.get(self.root, layer.name)
        if group is None:
            return []
        arrays = []
        for name in map(_text, group.attrs.get("weight_names", [])):
            node = self.store.get(group, name)
            if node is None:
                raise ValueError(f"HDF5 group {group.name} lists the weight {name!r}, which it "
                                 "does not hold.")
            arrays.append(self.store.array(node))
        return arrays


# -- configs ------------------------------------------------------------------------------------
