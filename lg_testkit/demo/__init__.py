"""A tiny LangGraph app to record against: `langgraph dev` in `DEMO_DIR` serves graph `agent`.

The agent uses a fake chat model, so it needs no API key and no network.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).parent
"""The folder holding the demo's `langgraph.json`."""

__all__ = ["DEMO_DIR"]
