"""The scoring engine compiled to C, where it was built (scripts/compile_scoring.py).

`make run` and `make test` compile the modules in `COMPILED` with mypyc into extension modules
beside their sources, when the machine has a C compiler (docs/decisions.md, "Compiled
scoring"). Python imports an extension module before a source of the same name, so a source
edited after the build would be ignored until the next `make`. The package checks first: when
a compiled module's source is newer than the oldest thing built, the package's modules are
imported from their sources, and a warning says so. `LEADPULSE_SCORING_FROM_SOURCE=1` does the
same on purpose: `make test` runs the scoring tests that way too, as machines without a C
compiler run them.
"""

from __future__ import annotations

import logging
import os
import sys
from importlib.machinery import (
    BYTECODE_SUFFIXES,
    EXTENSION_SUFFIXES,
    SOURCE_SUFFIXES,
    FileFinder,
    SourceFileLoader,
    SourcelessFileLoader,
)
from pathlib import Path
from types import ModuleType

COMPILED = ("engine", "state", "conditions", "visit")
"""What every event's scoring runs through: the modules worth compiling."""

log = logging.getLogger(__name__)


def built(folder: Path) -> list[Path]:
    """The extension modules in `folder` that this Python would import."""
    return [p for p in folder.iterdir() if p.name.endswith(tuple(EXTENSION_SUFFIXES))]


def stale(folder: Path, modules: tuple[str, ...] = COMPILED) -> bool:
    """Whether a source of `modules` changed after the extension modules were built."""
    extensions = built(folder)
    if not extensions:
        return False
    oldest = min(p.stat().st_mtime for p in extensions)
    sources = [folder / f"{name}.py" for name in modules]
    return any(p.exists() and p.stat().st_mtime > oldest for p in sources)


def use_sources_if_stale(folder: Path, modules: tuple[str, ...] = COMPILED) -> None:
    """Before the package imports its modules: when what was built is older than a source (or
    when asked to), import the modules of `folder` from their sources, with a finder that
    leaves extension modules out."""
    asked = os.environ.get("LEADPULSE_SCORING_FROM_SOURCE") == "1"
    if not asked and not stale(folder, modules):
        return
    sys.path_importer_cache[str(folder)] = FileFinder(
        str(folder), (SourceFileLoader, SOURCE_SUFFIXES), (SourcelessFileLoader, BYTECODE_SUFFIXES)
    )
    if not asked:
        log.warning(
            "the compiled scoring engine in %s is older than its sources: scoring runs from "
            "the sources, as Python, until `make` compiles them again",
            folder,
        )


def is_compiled(module: ModuleType) -> bool:
    return not (module.__file__ or "").endswith(tuple(SOURCE_SUFFIXES))
