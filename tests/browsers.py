"""What the browser tests need from the machine (Debian's chromium, node and npm), and the
example front end's harness (examples/frontend/harness.py: build, serve, launch Chromium).

`.ci/run` installs chromium where it is missing, so in CI (CI=true) a missing tool fails the
test that needs it; elsewhere the test is skipped, saying what to install.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

__all__ = ["CHROMIUM_FLAGS", "FRONTEND", "harness", "require", "require_chromium"]

FRONTEND = Path(__file__).resolve().parents[1] / "examples" / "frontend"


def _load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("frontend_harness", FRONTEND / "harness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load_harness()
CHROMIUM_FLAGS: list[str] = harness.CHROMIUM_FLAGS


def require(command: str, install: str) -> str:
    """The path of `command`; else fail (in CI) or skip, naming how to install it."""
    found = shutil.which(command)
    if found is not None:
        return found
    why = f"{command} is not installed ({install}); .ci/run installs it"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{why}, but it is missing in CI")
    pytest.skip(why)


def require_chromium() -> str:
    """Debian's chromium (or $CHROMIUM): fail in CI, skip elsewhere, when it is missing."""
    found = harness.find_chromium()
    return str(found) if found else require("chromium", "apt-get install -y chromium")
