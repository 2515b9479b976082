"""Compile the scoring engine to C with mypyc, beside its sources (leadpulse/scoring/native.py).

    .venv/bin/python scripts/compile_scoring.py [--clean]

`make run` and `make test` run this whenever a compiled module's source changed. Without a C
compiler or Python's headers it says so and leaves scoring to Python: everything works the
same, only slower. mypy (which holds mypyc) and a setuptools that reads this project's
pyproject.toml are installed first when missing. `--clean` removes what was built.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "leadpulse" / "scoring"
GROUP = "leadpulse.scoring.native"
"""The name of the shared library mypyc makes (`native__mypyc`, beside the modules)."""

BUILD = """
import sys
from setuptools import setup
from mypyc.build import mypycify
modules, group, temp = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
setup(name="leadpulse-native", script_args=["-q", "build_ext", "--inplace", "--build-temp", temp],
      ext_modules=mypycify(modules, group_name=group, target_dir=temp))
"""


def native() -> Any:
    """leadpulse/scoring/native.py on its own: importing the package would load the very
    extension modules this script replaces."""
    spec = importlib.util.spec_from_file_location("leadpulse_native", FOLDER / "native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def missing_compiler() -> str | None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler})"
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.exists():
        return f"no Python headers ({headers}; Debian: python3-dev)"
    return None


def ensure_build_tools() -> None:
    try:
        ready = int(version("setuptools").split(".")[0]) >= 77  # reads `license = "…"`
    except PackageNotFoundError:
        ready = False
    if not ready or importlib.util.find_spec("mypyc") is None:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "mypy>=1.10", "setuptools>=77"]
        subprocess.run(pip, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", action="store_true", help="remove the compiled modules")
    args = parser.parse_args()
    found = native()
    for path in found.built(FOLDER):
        path.unlink()  # unlinked, not overwritten: a running server keeps its mapped copy
    if args.clean:
        return
    reason = missing_compiler()
    if reason is not None:
        print(f"scoring runs as Python: {reason}. To compile it once that is installed: "
              "`.venv/bin/python scripts/compile_scoring.py`")  # fmt: skip
        return
    ensure_build_tools()
    sources = ",".join(f"leadpulse/scoring/{name}.py" for name in found.COMPILED)
    with tempfile.TemporaryDirectory(prefix="leadpulse-mypyc-") as temp:
        done = subprocess.run(
            [sys.executable, "-c", BUILD, sources, GROUP, temp],
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        print("compiling the scoring engine failed (above); scoring runs as Python")
        for path in found.built(FOLDER):
            path.unlink()
        return
    print(f"scoring engine compiled with mypyc: {', '.join(found.COMPILED)}")


if __name__ == "__main__":
    main()
