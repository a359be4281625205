"""Offline guard: environment switches that stop bundled libraries from phoning home.

onnxruntime >= 1.29 sends usage telemetry on Linux unless ORT_DISABLE_TELEMETRY=1; transformers/huggingface_hub try
the hub unless told they are offline; tldextract (via presidio) fetches the public-suffix list. Entry points (the
CLI, the serving runtime) call `apply_offline_env()` before importing any of them.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

OFFLINE_ENV = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "DO_NOT_TRACK": "1",
}


def apply_offline_env(env: MutableMapping[str, str] | None = None) -> None:
    """Force the offline switches (an admin cannot turn them back on by accident through the environment)."""
    env = os.environ if env is None else env
    env.update(OFFLINE_ENV)
