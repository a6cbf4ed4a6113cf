"""The README's test command is what `.ci/run` runs, line for line."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_test_command_is_what_ci_runs() -> None:
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [
        line for line in script if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    readme = (ROOT / "README.md").read_text()
    block = re.search(
        r"# The whole test suite \(what \.ci/run runs\)[^\n]*\n(.*?)```", readme, re.S
    )
    assert block is not None, "README: no '# The whole test suite (what .ci/run runs)' block"
    assert block.group(1).strip().splitlines() == commands
    assert commands[-1].endswith(".venv/bin/python -m pytest")
