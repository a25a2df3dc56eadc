"""Every recurrent path on CUDA: correctness against torch.nn (cuDNN) on the same weights and
the time of a training step (forward + backward of sum(y)) and of inference, for torch.nn,
rnnkit's auto (cuDNN with Keras-layout weights), its Triton kernel and its reference loop,
interleaved round-robin in one process, medians (CUDA-synchronised).

    python benchmarks/bench_cuda.py [--reps N] [--out results.json]

GRU with reset_after=False has no cuDNN equivalent: its Triton kernel is checked against the
reference loop and timed against it.
TF32 is off everywhere (torch's default for matrix products; set here for cuDNN too) so that
every path computes float32.
"""

from __future__ import annotations

import argparse
import json
import torch

from rnnkit.benchmark import interleaved, make_x, rnnkit_peer, torch_peer

SHAPES = [(16, 1024, 64, 256), (64, 200, 32, 256), (256, 100, 128, 512), (1, 2000, 8, 128)]
CELLS = [("LSTM", {}), ("GRU", {}), ("SimpleRNN", {}), ("GRU", {"reset_after": False})]


def synced(fn):
    def run():
        fn()
        torch.cuda.synchronize()
    return run


def milliseconds(fns, reps):
    return {k: t * 1e3 for k, t in interleaved(fns, reps).items()}


def peers(cls, kwargs, x, units):
    """{name: (train, infer, forward)} on the same weights; forward() returns the outputs."""
    out = {}
    base = None
    for backend in ("auto", "triton", "reference"):
        layer, train, infer = rnnkit_peer(cls, x, units, backend=backend, **kwargs)
        layer.cuda()
        if base is None:
            base = layer
        else:
            layer.set_weights(base.get_weights())
        out[f"rnnkit {backend}"] = (synced(train), synced(infer), layer)
    if kwargs.get("reset_after") is not False:
        train, infer, module = torch_peer(cls, x, base)
        module.cuda()
        out["torch.nn"] = (synced(train), synced(infer), module)
    return out


def max_error(made, x):
    """Max |output - expected| of every peer: torch.nn's where it computes the same function,
    else the reference loop's."""
    with torch.no_grad():
        ys = {k: (v[2](x)[0] if k == "torch.nn" else v[2](x)) for k, v in made.items()}
    want = ys.get("torch.nn", ys["rnnkit reference"])
    return {k: float((y - want).abs().max()) for k, y in ys.items()}, \
        {k: v[2].last_backend for k, v in made.items() if k != "torch.nn"}


def case(cls, kwargs, shape, reps):
    b, t, i, h = shape
    x = make_x(b, t, i).cuda()
    made = peers(cls, kwargs, x, h)
    errors, ran = max_error(made, x)
    train = milliseconds({k: v[0] for k, v in made.items()}, reps)
    infer = milliseconds({k: v[1] for k, v in made.items()}, reps)
    return {"cell": cls + ("(reset_after=False)" if kwargs else ""), "shape": shape,
            "ran": ran, "max_error": errors, "train_ms": train, "infer_ms": infer}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.backends.cudnn.allow_tf32 = False
    print(torch.cuda.get_device_name(), "torch", torch.__version__, flush=True)
    results = []
    for shape in SHAPES:
        for cls, kwargs in CELLS:
            try:
                results.append(case(cls, kwargs, shape, args.reps))
            except Exception as error:  # one failing path must not hide the others' numbers
                results.append({"cell": cls, "shape": shape, "error": repr(error)})
            print(json.dumps(results[-1]), flush=True)
            if args.out:
                with open(args.out, "w") as f:
                    json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
