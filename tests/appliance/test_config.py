"""Config loading: defaults, TOML, environment overrides, rejection of unknown keys and wrong types."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ConfigError, config_fingerprint, config_to_dict, config_to_toml, load_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.sqlite_only(reason="checks the default store URL, which the PostgreSQL test backend replaces")
def test_defaults_derive_paths_from_data_dir(tmp_path: Path) -> None:
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path)})
    assert cfg.keys_dir == tmp_path / "keys"
    assert cfg.store.url == f"sqlite:///{tmp_path / 'tanaban.db'}"
    assert cfg.audit_path == tmp_path / "audit.db"
    assert cfg.egress.enabled is False
    assert cfg.source == "defaults"


def test_default_data_dir_follows_xdg(tmp_path: Path) -> None:
    cfg = load_config(None, env={"XDG_DATA_HOME": str(tmp_path)})
    assert cfg.data_dir == tmp_path / "tanaban"


def test_toml_values_are_read(tmp_path: Path) -> None:
    path = _write(tmp_path, '[eval]\nks = [1, 3]\nknn_shrink = 2\n[egress]\nallowed_hosts = ["llm.local"]\n')
    cfg = load_config(path, env={})
    assert cfg.eval.ks == (1, 3)
    assert cfg.eval.knn_shrink == 2.0 and isinstance(cfg.eval.knn_shrink, float)
    assert cfg.egress.allowed_hosts == ("llm.local",)
    assert cfg.source == str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[store]\nurll = 'x'\n", "unknown config key 'store.urll'"),
        ("[nosuch]\na = 1\n", "unknown config key 'nosuch'"),
        ("[eval]\nks = 5\n", "eval.ks: expected a list of int"),
        ("[eval]\nseed = '3'\n", "eval.seed: expected int, got str"),
        ("[egress]\nenabled = 1\n", "egress.enabled: expected bool, got int"),
        ("[eval]\nks = [1, 'a']\n", "eval.ks: expected int, got str"),
        ("store = 3\n", "store: expected a table"),
        ("[store\n", "is not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        load_config(_write(tmp_path, text), env={})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml", env={})


def test_config_env_variable_picks_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[eval]\nseed = 7\n")
    assert load_config(None, env={"TANABAN_CONFIG": str(path)}).eval.seed == 7


@pytest.mark.parametrize(
    ("name", "value", "attr", "expected"),
    [
        ("TANABAN_EVAL__SEED", "11", ("eval", "seed"), 11),
        ("TANABAN_EGRESS__ENABLED", "true", ("egress", "enabled"), True),
        ("TANABAN_EGRESS__ENABLED", "off", ("egress", "enabled"), False),
        ("TANABAN_EVAL__KS", "5, 50", ("eval", "ks"), (5, 50)),
        ("TANABAN_EGRESS__TIMEOUT_S", "2.5", ("egress", "timeout_s"), 2.5),
    ],
)
def test_env_overrides_are_coerced(tmp_path: Path, name: str, value: str, attr: tuple[str, str],
                                   expected: object) -> None:
    path = _write(tmp_path, "[eval]\nseed = 1\n")
    cfg = load_config(path, env={name: value})
    assert getattr(getattr(cfg, attr[0]), attr[1]) == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TANABAN_EVAL__SEED", "eleven", "eval.seed: expected int"),
        ("TANABAN_EGRESS__ENABLED", "maybe", "egress.enabled: expected a boolean"),
        ("TANABAN_STORE__NOPE", "1", "unknown config key 'store.nope'"),
    ],
)
def test_bad_env_override_names_the_key(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(None, env={name: value})


def test_secrets_are_redacted(tmp_path: Path) -> None:
    cfg = load_config(None, env={"TANABAN_EGRESS__API_KEY": "sk-very-secret", "TANABAN_PATHS__DATA_DIR": "/x"})
    assert config_to_dict(cfg)["egress"]["api_key"] == "***"
    assert "sk-very-secret" not in config_to_toml(cfg)
    assert config_to_dict(cfg, redact=False)["egress"]["api_key"] == "sk-very-secret"


def test_show_output_round_trips_through_load(tmp_path: Path) -> None:
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path), "TANABAN_EVAL__KS": "3,4"})
    text = config_to_toml(cfg)
    assert load_config(_write(tmp_path, text), env={}).eval == cfg.eval


def test_env_overrides_are_recorded_and_marked_but_change_no_value(tmp_path: Path) -> None:
    env = {"TANABAN_PATHS__DATA_DIR": str(tmp_path), "TANABAN_ANONYMIZE__USE_NER": "false"}
    by_env = load_config(None, env=env)
    by_file = load_config(_write(tmp_path, f'[paths]\ndata_dir = "{tmp_path}"\n[anonymize]\nuse_ner = false\n'),
                          env={})
    assert by_env.env_overrides == (("anonymize.use_ner", "TANABAN_ANONYMIZE__USE_NER"),
                                    ("paths.data_dir", "TANABAN_PATHS__DATA_DIR"))
    assert by_file.env_overrides == () and "env_overrides" not in config_to_dict(by_env)
    assert config_fingerprint(by_env) == config_fingerprint(by_file) != config_fingerprint(load_config(None, env={}))
    shown = config_to_toml(by_env).splitlines()
    assert "use_ner = false  # env TANABAN_ANONYMIZE__USE_NER" in shown and "normalize = true" in shown


def test_only_the_file_can_allow_a_weakened_policy(tmp_path: Path) -> None:
    path = _write(tmp_path, "[egress]\nallow_weakened_policy = true\n")
    assert load_config(path, env={}).egress.allow_weakened_policy
    with pytest.raises(ConfigError, match=r"egress\.allow_weakened_policy can be set only in the config file"):
        load_config(None, env={"TANABAN_EGRESS__ALLOW_WEAKENED_POLICY": "true"})


def test_the_fingerprint_is_the_one_service_start_records(tmp_path: Path) -> None:
    from appliance.serve.workers import config_fingerprint as serve_fingerprint  # uvicorn: import only here

    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path), "TANABAN_EGRESS__API_KEY": "sk-x"})
    assert config_fingerprint(cfg) == serve_fingerprint(cfg, redact=True)
