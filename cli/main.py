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
from appliance.config import ConfigError
from appliance.data.artifacts import ArtifactError
from appliance.data.home import NotInitialisedError
from appliance.data.ingest import IngestError
from appliance.data.keys import KeyMaterialError
from appliance.data.rotation import RotationError
from appliance.data.splits import DataError
from appliance.data.store import StoreError
from appliance.demo.run import DemoError
from appliance.demo.sample import SampleError
from appliance.generative.precompute import PrecomputeError
from appliance.generative.quantize import TokenizeError
from appliance.generative.tasks import GenerativeError
from appliance.generative.tokenizer import GenTokenizerError
from appliance.generative.trie import TrieError
from appliance.models.graph_cf import CFError
from appliance.models.registry import UnknownModelError
from appliance.privacy.anonymizer import AnonymizeInputError
from appliance.privacy.audit import AuditVerificationError, AuditWriteError
from appliance.privacy.audit.admin import AuditRequestError
from appliance.privacy.egress import EgressError
from appliance.serve.apikeys import ApiKeyError
from appliance.serve.decoder import GenServeError
from appliance.serve.errors import RequestError, ServeError
from appliance.text.embed import EmbedError
from appliance.text.encoder import TextEncoderError
from appliance.text.intents import IntentsError
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
