"""The `tanaban` typer app: global options, command groups (one file each) and error reporting.

Known failure domains (bad config, missing keys, bad input files...) print one `error:` line and exit with
status 2, under `tanaban` and under typer's CliRunner alike; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from anonymize.engine import AnonymizerError
from anonymize.policy import PolicyError
from appliance.apikeys import ApiKeyError
from appliance.audit import AuditVerificationError, AuditWriteError
from appliance.audit.admin import AuditRequestError
from appliance.cf import CFError
from appliance.checkpoint import ArtifactError
from appliance.config import ConfigError
from appliance.data import DataError
from appliance.demo import DemoError
from appliance.egress import EgressError
from appliance.embed import EmbedError
from appliance.gen_tasks import GenerativeError
from appliance.gen_tokenizer import GenTokenizerError
from appliance.home import NotInitialisedError
from appliance.ingest import IngestError
from appliance.intents import IntentsError
from appliance.keys import KeyMaterialError
from appliance.precompute import PrecomputeError
from appliance.privacy import AnonymizeInputError
from appliance.recommender import UnknownModelError
from appliance.rotation import RotationError
from appliance.sample import SampleError
from appliance.serve import RequestError, ServeError
from appliance.serve_gen import GenServeError
from appliance.store import StoreError
from appliance.textenc import TextEncoderError
from appliance.tokenize import TokenizeError
from appliance.trie import TrieError
from cli import (
    anonymize_cmd,
    audit_cmd,
    config_cmd,
    demo_cmd,
    egress_cmd,
    embed_cmd,
    evaluate_cmd,
    ingest_cmd,
    intents_cmd,
    keys_cmd,
    sample_cmd,
    serve_cmd,
    tokenize_cmd,
    train_cmd,
    train_gen_cmd,
)
from cli.common import err_console, state
from export.bundle import BundleError
from export.cf import ExportError
from export.generative import GenExportError

USER_ERRORS: tuple[type[BaseException], ...] = (
    AnonymizeInputError,
    AnonymizerError,
    ApiKeyError,
    ArtifactError,
    AuditRequestError,
    AuditVerificationError,
    AuditWriteError,
    BundleError,
    CFError,
    ConfigError,
    DataError,
    DemoError,
    EgressError,
    EmbedError,
    ExportError,
    GenExportError,
    GenServeError,
    GenTokenizerError,
    GenerativeError,
    IngestError,
    IntentsError,
    KeyMaterialError,
    NotInitialisedError,
    PolicyError,
    PrecomputeError,
    RequestError,
    RotationError,
    SampleError,
    ServeError,
    StoreError,
    TextEncoderError,
    TokenizeError,
    TrieError,
    UnknownModelError,
)
EXIT_USER_ERROR = 2


class _Group(TyperGroup):
    """Root group that turns the library's user-facing errors into one readable line."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None


app = typer.Typer(
    name="tanaban",
    cls=_Group,
    help="Tanaban: a privacy-preserving, on-premise recommender appliance.\n\nExample: tanaban demo",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", "-c", help=(
        "TOML config file (else $TANABAN_CONFIG, else /etc/tanaban/config.toml, else built-in defaults)."))] = None,
) -> None:
    state(ctx).config_path = config


_GROUPS = (config_cmd, ingest_cmd, evaluate_cmd, embed_cmd, demo_cmd, anonymize_cmd, audit_cmd, keys_cmd, egress_cmd,
           sample_cmd, tokenize_cmd, intents_cmd, train_cmd, train_gen_cmd, serve_cmd)
for _group in _GROUPS:
    _group.register(app)


def main() -> None:
    app()
