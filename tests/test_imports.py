"""Import-direction rules, checked in a fresh interpreter (sigstore test_imports.py style).

- anonymize/ imports nothing from appliance/ (detection and transformation meet through its own Finding type).
- The core (config, store, keys, ingest, evaluation, audit, egress, CLI start-up) imports no torch, transformers or
  optimum, so serve-only installs work and `tanaban --help` starts fast.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "optimum")
# Modules that may import the training stack (training, export); everything else must not.
TRAINING_MODULES = ("appliance.models.bpr", "appliance.models.intent_losses", "appliance.models.irllrec",
                    "appliance.models.lightgcn", "appliance.models.sasrec", "appliance.generative.model",
                    "appliance.generative.pipeline", "appliance.generative.rqvae", "appliance.generative.train",
                    "appliance.text.encoder", "export.")

# The serving runtime, which a serve-only install (`installer/install.sh --serve-only`) must be able to import:
# every module of the serve package, and the bundle verification it reads signed bundles with.
SERVING_PACKAGE = "appliance.serve"
SERVING_EXTRA = ("export.bundle",)


def _modules(package: str) -> list[str]:
    """Every module of a top-level package, subpackages included, named from the files (nothing is imported)."""
    files = sorted(ROOT.joinpath(*package.split(".")).rglob("*.py"))
    names = [".".join(f.relative_to(ROOT).with_suffix("").parts) for f in files]
    return [n.removesuffix(".__init__") for n in names]


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print('\\n'.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_anonymize_imports_nothing_from_appliance() -> None:
    loaded = _loaded_after_import(_modules("anonymize"))
    assert not {m for m in loaded if m == "appliance" or m.startswith("appliance.")}


@pytest.mark.parametrize("package", ["appliance", "anonymize", "cli"])
def test_core_imports_no_training_stack(package: str) -> None:
    modules = [m for m in _modules(package) if not m.startswith(TRAINING_MODULES)]
    loaded = _loaded_after_import(modules)
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"importing {package} core pulled in {heavy[:5]}"


def test_serving_modules_import_no_training_stack() -> None:
    modules = [*_modules(SERVING_PACKAGE), *SERVING_EXTRA]
    loaded = _loaded_after_import(modules)
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert set(modules) <= loaded and len(modules) > 10 and not heavy, f"the serving modules pulled in {heavy[:5]}"
