"""Builds the compiled core with AddressSanitizer and UndefinedBehaviorSanitizer into a copy of
the rnnkit package (scripts/sanitize.sh runs the native tests against it). The sources, the
instruction sets, their flags and defines are setup.py's own, read from it; only the
optimisation level and the sanitizer flags differ from an ordinary build.

Usage: python scripts/_sanitize_build.py PACKAGE_DIR ISA...
"""

import ast
import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import pybind11

ROOT = Path(__file__).resolve().parent.parent
# -O1 keeps the stacks readable; -fno-sanitize-recover makes undefined behaviour fatal, as a
# memory error already is.
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer", "-O1", "-g"]


def setup_constants() -> dict:
    """SOURCES, COMMON and ISAS as setup.py assigns them (read, not imported: importing
    setup.py would run setup())."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    names = {"SOURCES", "COMMON", "ISAS"}
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) in names}


def commands(package: Path, isas: list[str]) -> list[list[str]]:
    """One compiler command per instruction set asked for, each writing _native_<isa> into
    package."""
    setup = setup_constants()
    common = [flag for flag in setup["COMMON"] if not flag.startswith("-O")]
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    includes = [f"-I{pybind11.get_include()}", f"-I{sysconfig.get_paths()['include']}"]
    sources = [str(ROOT / source) for source in setup["SOURCES"]]
    return [[os.environ.get("CXX", "g++"), "-shared", "-fPIC", "-fvisibility=hidden", *common,
             *flags, *SANITIZE, *includes, f"-DRNNKIT_W={width}", f"-DRNNKIT_MODULE=_native_{isa}",
             f'-DRNNKIT_ISA="{isa}"', *sources, "-o", str(package / f"_native_{isa}{suffix}")]
            for isa, (width, flags) in setup["ISAS"].items() if isa in isas]


def main(package: Path, isas: list[str]) -> int:
    """Runs the builds at once (each is one long translation unit, so they share the cores best
    that way); returns the first failing status, or 0."""
    unknown = set(isas) - set(setup_constants()["ISAS"])
    if unknown:
        sys.exit(f"_sanitize_build: expected instruction sets from setup.py, got {sorted(unknown)}")
    builds = []
    for command in commands(package, isas):
        print("+", shlex.join(command), flush=True)
        builds.append(subprocess.Popen(command))
    statuses = [build.wait() for build in builds]
    return next((status for status in statuses if status), 0)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
