"""Value checks that run when the config loads (`check_config`): each bad value raises ConfigError naming the key."""

from __future__ import annotations

import pytest

from appliance.config import (
    GEN_ARCHS,
    GEN_PRESETS,
    GEN_TASKS,
    MAX_RQ_LEVELS,
    RQ_METHODS,
    ApplianceConfig,
    ConfigError,
    check_config,
    load_config,
)


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"TANABAN_SASREC__HEADS": "3"}, "sasrec.dim"),
        ({"TANABAN_SASREC__HEADS": "0"}, "sasrec.heads"),
        ({"TANABAN_SASREC__DIM": "30", "TANABAN_SASREC__HEADS": "4"}, "sasrec.heads"),
        ({"TANABAN_TOKENIZE__METHOD": "pq"}, "tokenize.method"),
        ({"TANABAN_TOKENIZE__LEVELS": "8, 0"}, "tokenize.levels"),
        ({"TANABAN_TOKENIZE__LEVELS": ", ".join(["2"] * (MAX_RQ_LEVELS + 1))}, "tokenize.levels"),
        ({"TANABAN_TOKENIZE__BALANCE": "0.5"}, "tokenize.balance"),
        ({"TANABAN_GEN__ARCH": "gpt2"}, "gen.arch"),
        ({"TANABAN_GEN__PRESET": "huge"}, "gen.preset"),
        ({"TANABAN_GEN__TASKS": "seq, bogus"}, "gen.tasks"),
        ({"TANABAN_INTENTS__TAU": "0"}, "intents.tau"),
        ({"TANABAN_INTENTS__RECENCY": "1.5"}, "intents.recency"),
    ],
)
def test_bad_value_fails_at_load_naming_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(None, env=env)


def test_defaults_and_edge_values_pass() -> None:
    check_config(ApplianceConfig())
    cfg = load_config(None, env={"TANABAN_SASREC__DIM": "48", "TANABAN_SASREC__HEADS": "3",
                                 "TANABAN_INTENTS__RECENCY": "1", "TANABAN_TOKENIZE__BALANCE": "1"})
    assert (cfg.sasrec.heads, cfg.intents.recency, cfg.tokenize.balance) == (3, 1.0, 1.0)


def test_allowed_values_match_the_modules() -> None:
    from appliance.generative.quantize import LEVEL_LETTERS, METHODS
    from appliance.generative.tasks import TASKS

    assert (METHODS, len(LEVEL_LETTERS) - 1, TASKS) == (RQ_METHODS, MAX_RQ_LEVELS, GEN_TASKS)
    pytest.importorskip("torch")
    from appliance.generative.model import ARCHS, PRESETS

    assert (tuple(ARCHS), tuple(PRESETS)) == (GEN_ARCHS, GEN_PRESETS)
