"""Placeholder (H1): engineer H2 replaces this module; main.py calls register(app)."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds this module's commands to the `spoke` app."""
