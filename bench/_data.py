"""Where the benchmarks find the shared datasets (amazon-beauty-2014/, amazon-book-cf/, ...): one rule for every
script, so no script holds the absolute path of one machine.

`--data DIR` if given; else $TANABAN_SHARED_DATA (a relative value is taken relative to the repository); else
`<repo>/../shared/data`, the `shared/` folder next to the checkout.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = "TANABAN_SHARED_DATA"


def shared_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The default folder of the shared datasets: $TANABAN_SHARED_DATA, else <repo>/../shared/data."""
    value = environ.get(ENV)
    return REPO / value if value else REPO.parent / "shared" / "data"


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """Add `--data DIR`, the folder holding the shared datasets, defaulting to `shared_data_dir()`."""
    parser.add_argument("--data", type=Path, default=shared_data_dir(), metavar="DIR",
                        help=f"folder of the shared datasets (default: ${ENV}, else <repo>/../shared/data; "
                             f"now %(default)s)")
