"""Which install this is (serve-only, full, dev) and what that lets the CLI run.

`installer/install.sh` records its mode in `<venv>/tanaban-install.toml`; whether the training stack is there is
decided by what is importable (importlib.util.find_spec, no import), so a serve-only venv that later got
`pip install 'tanaban[train]'` runs everything, and a full venv that lost torch says so instead of a traceback.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

MODE_FILE = "tanaban-install.toml"  # written by installer/install.sh into the venv (sys.prefix)
MODES = ("serve-only", "full", "dev")
TRAINING_MODULES = ("torch", "transformers")  # the `train` extra; serving imports neither (tests/test_imports.py)
# Top-level commands that need the training stack: a serve-only install hides them from --help and refuses them.
TRAINING_COMMANDS = frozenset({"demo", "train", "embed", "export", "evaluate", "tokenize", "intents"})


def recorded_mode(prefix: str | Path | None = None) -> str | None:
    """The mode the installer recorded in `<prefix>/tanaban-install.toml` (default: this venv, sys.prefix); None
    when absent or unreadable."""
    try:
        mode = tomllib.loads((Path(prefix or sys.prefix) / MODE_FILE).read_text(encoding="utf-8")).get("mode")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return mode if mode in MODES else None


def has_training_stack() -> bool:
    """True when torch and transformers are importable here (found on the path, not imported)."""
    return all(importlib.util.find_spec(name) is not None for name in TRAINING_MODULES)


def needs_training_stack(command: str, prefix: str | Path | None = None) -> str:
    """The one-line reason `tanaban <command>` cannot run in this install, naming the install it needs."""
    mode = recorded_mode(prefix)
    need = f"`tanaban {command}` needs the training stack (torch, transformers)"
    if mode in ("full", "dev"):
        return (f"{need}, which is missing from this {mode} install: run installer/install.sh again to repair it, "
                "or pip install 'tanaban[train]'")
    which = "this serve-only install lacks" if mode else "is not installed here"
    return f"{need}, which {which}: run installer/install.sh without --serve-only, or pip install 'tanaban[train]'"
