"""Builds rnnkit's compiled core: one extension module per instruction set, from the same C++
source. rnnkit picks the best one the CPU supports at run time (and works without any)."""

from pybind11.setup_helpers import Pybind11Extension
from setuptools import setup

SOURCES = ["src/rnnkit/csrc/module.cpp"]
COMMON = ["-O3", "-ffp-contract=fast", "-fno-math-errno", "-std=c++17"]
ISAS = {
    "avx512": (16, ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma",
                    "-mprefer-vector-width=512"]),
    "avx2": (8, ["-mavx2", "-mfma"]),
    "portable": (4, []),
}

setup(ext_modules=[
    Pybind11Extension(
        f"rnnkit._native_{isa}", SOURCES, depends=["src/rnnkit/csrc/*.h", "src/rnnkit/csrc/cells/*.h"],
        define_macros=[("RNNKIT_W", str(width)), ("RNNKIT_MODULE", f"_native_{isa}"),
                       ("RNNKIT_ISA", f'"{isa}"')],
        extra_compile_args=COMMON + flags, cxx_std=17)
    for isa, (width, flags) in ISAS.items()
])
