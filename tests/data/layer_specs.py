"""One model description, built by Keras (tests/data/make_keras_layers_*.py) and by rnnkit
(tests/test_keras_layer_cases.py) with the same code: only the module passed in differs.

A spec is plain JSON:

    {"inputs": [{"name": "x", "shape": [None, 3], "dtype": "float32"}],
     "nodes": [["m", "Masking", {}, "x"],
               ["c", "Conv1D", {"filters": 4, "kernel_size": 2}, "m"],
               ["s", "Concatenate", {"axis": -1}, ["c", "m"]],
               ["o", "MultiHeadAttention", {"num_heads": 2, "key_dim": 3},
                {"query": "s", "value": "s"}, {"use_causal_mask": True}]],
     "outputs": ["o"],
     "data": {"x": {"pad": true}}}

Each node is [output name(s), layer class, constructor kwargs, inputs, call kwargs (optional)]:
inputs is a tensor's name (one positional argument), a list of names (one list argument, as
merging layers take), a dict of keyword arguments naming tensors, or {"args": [...], "kwargs":
{...}} for both (`lstm(x, initial_state=[h, c])`); call kwargs hold the other arguments. A list of output names unpacks a layer that returns several tensors. A constructor
kwarg {"layer": class, "kwargs": {...}} is a layer made first (what a wrapper such as
Bidirectional takes).

`data` says how make_inputs draws each input of a batch of BATCH rows of TIME steps (None sizes):
normal floats by default; {"ints": high} draws ids in [1, high); {"pad": true} zeroes (or, for ids,
sets to 0) the steps MASK_PATTERN marks as padding, for a Masking layer or mask_zero to find.
"""

BATCH, TIME = 3, 5
# Which steps are real (1) in each row of the batch.
MASK_PATTERN = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 1, 0, 1, 1]]


def _tensors(ref, env):
    if isinstance(ref, str):
        return env[ref]
    if isinstance(ref, list):
        return [_tensors(r, env) for r in ref]
    if isinstance(ref, dict):
        return {k: _tensors(v, env) for k, v in ref.items()}
    raise TypeError(f"expected a tensor name, a list or a dict of them, got {ref!r}")


def _layer(lib, cls, kwargs):
    """lib.layers.<cls>(**kwargs), kwargs given as {"layer": ..., "kwargs": ...} made first."""
    def value(v):
        if isinstance(v, dict) and set(v) == {"layer", "kwargs"}:
            return _layer(lib, v["layer"], v["kwargs"])
        return v
    return getattr(lib.layers, cls)(**{k: value(v) for k, v in kwargs.items()})


def build(spec, lib, name=None):
    """The spec's model, made with `lib` (the keras module, or rnnkit): lib.Input, lib.layers.<cls>,
    lib.Model."""
    env = {}
    inputs = []
    for entry in spec["inputs"]:
        shape = tuple(entry["shape"])
        env[entry["name"]] = lib.Input(shape, name=entry["name"], dtype=entry.get("dtype"))
        inputs.append(env[entry["name"]])
    for node in spec["nodes"]:
        out, cls, kwargs, ref = node[:4]
        call_kwargs = dict(node[4]) if len(node) > 4 else {}
        layer = _layer(lib, cls, kwargs)
        if isinstance(ref, dict) and set(ref) == {"args", "kwargs"}:
            result = layer(*_tensors(ref["args"], env), **_tensors(ref["kwargs"], env),
                           **call_kwargs)
        else:
            args = _tensors(ref, env)
            result = layer(**args, **call_kwargs) if isinstance(args, dict) else layer(
                args, **call_kwargs)
        if isinstance(out, list):
            for key, value in zip(out, result):
                env[key] = value
        else:
            env[out] = result
    outputs = [env[o] for o in spec["outputs"]]
    return lib.Model(inputs if len(inputs) > 1 else inputs[0],
                     outputs if len(outputs) > 1 else outputs[0], name=name or "model")


def make_inputs(spec, rng, np):
    """numpy inputs for the spec (in `inputs` order), drawn from rng (a RandomState)."""
    arrays = []
    for entry in spec["inputs"]:
        how = spec.get("data", {}).get(entry["name"], {})
        shape = (BATCH,) + tuple(TIME if d is None else d for d in entry["shape"])
        if "ints" in how:
            x = rng.randint(1, how["ints"], size=shape).astype(entry.get("dtype") or "int32")
        else:
            x = rng.normal(size=shape).astype("float32")
        if how.get("pad"):
            keep = np.asarray(MASK_PATTERN, dtype=bool)[:, :shape[1]]
            x[~keep] = 0
        arrays.append(x)
    return arrays
