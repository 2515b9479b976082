"""A compiled scoring engine is used only while it is as new as its sources (scoring/native.py)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from leadpulse.scoring import native


@pytest.fixture()
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package `stalepkg` whose module `mod` has a source and an extension module that is
    not one (it fails to load if imported)."""
    monkeypatch.delenv("LEADPULSE_SCORING_FROM_SOURCE", raising=False)
    folder = tmp_path / "stalepkg"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "mod.py").write_text("WHERE = 'source'\n")
    (folder / f"mod{EXTENSION_SUFFIXES[0]}").write_bytes(b"not a shared library")
    sys.path.insert(0, str(tmp_path))
    yield folder
    sys.path.remove(str(tmp_path))
    for name in ("stalepkg", "stalepkg.mod"):
        sys.modules.pop(name, None)
    sys.path_importer_cache.pop(str(folder), None)


def _age(path: Path, seconds: int) -> None:
    stat = path.stat()
    os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))


def test_a_build_older_than_its_source_is_passed_over(package: Path) -> None:
    _age(package / f"mod{EXTENSION_SUFFIXES[0]}", 60)
    assert native.stale(package, ("mod",))
    native.use_sources_if_stale(package, ("mod",))
    assert importlib.import_module("stalepkg.mod").WHERE == "source"


def test_a_fresh_build_is_what_python_imports(package: Path) -> None:
    _age(package / "mod.py", 60)
    assert not native.stale(package, ("mod",))
    native.use_sources_if_stale(package, ("mod",))
    with pytest.raises(ImportError):  # the fake extension module was chosen over the source
        importlib.import_module("stalepkg.mod")


def test_sources_can_be_asked_for(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _age(package / "mod.py", 60)
    monkeypatch.setenv("LEADPULSE_SCORING_FROM_SOURCE", "1")
    native.use_sources_if_stale(package, ("mod",))
    assert importlib.import_module("stalepkg.mod").WHERE == "source"


def test_the_engine_runs_compiled_exactly_when_it_was_built() -> None:
    folder = Path(native.__file__).parent
    built = bool(native.built(folder)) and not native.stale(folder)
    asked = os.environ.get("LEADPULSE_SCORING_FROM_SOURCE") == "1"
    code = "from leadpulse.scoring import engine, native; print(native.is_compiled(engine))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(built and not asked)
