"""Intent extraction on tiny odd-sized data: clustering, readable labels, the leakage test, the artifact, backends."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from appliance.config import IntentsConfig
from appliance.data.home import Home
from appliance.data.splits import split_from_sequences
from appliance.text.intents import (
    JOURNAL,
    ExternalBackend,
    IntentsError,
    LocalBackend,
    build_intents,
    clean_label,
    distinctive_terms,
    extract_intents,
    load_intents,
    make_backend,
    resolve_user,
    show_user,
    soft_assign,
    spherical_kmeans,
    user_distributions,
)
from appliance.text.label_journal import JournalError, read_journal, run_journaled

CFG = IntentsConfig(k=3, tau=0.1, label_terms=3)


def test_spherical_kmeans_finds_the_themes_deterministically(tiny_themes) -> None:
    vectors, theme = tiny_themes.vectors()
    centroids, assign = spherical_kmeans(vectors, 3, seed=1)
    _, assign2 = spherical_kmeans(vectors, 3, seed=1)
    np.testing.assert_array_equal(assign, assign2)
    np.testing.assert_allclose(np.linalg.norm(centroids, axis=1), 1.0, rtol=1e-5)
    for t in range(3):  # every theme lands in exactly one cluster
        assert len(set(assign[theme == t])) == 1
    assert len(set(assign)) == 3
    with pytest.raises(IntentsError, match="--k"):
        spherical_kmeans(vectors, 12)


def test_labels_are_distinctive_readable_terms(tiny_themes) -> None:
    _, theme = tiny_themes.vectors()
    texts = tiny_themes.texts(theme)
    profiles = ["\n".join(t for t, c in zip(texts, theme, strict=True) if c == k) for k in range(3)]
    labels = distinctive_terms(profiles, 3)
    for label, (words, brand) in zip(labels, tiny_themes.themes, strict=True):
        terms = label.split()
        assert 2 <= len(terms) <= 4
        assert set(terms) <= set(words.split()) | {brand.lower()}
        assert not {"model", "brand", "categories", "shop", "500", "the"} & set(terms)


def test_distributions_sum_to_one_and_follow_recency(tiny_themes) -> None:
    vectors, _ = tiny_themes.vectors()
    protos, _ = spherical_kmeans(vectors, 3)
    dist = soft_assign(vectors, protos, 0.1)
    np.testing.assert_allclose(dist.sum(axis=1), 1.0, rtol=1e-5)
    users = user_distributions([np.array([0, 1]), np.array([], dtype=np.int64)], dist, recency=0.5)
    np.testing.assert_allclose(users[0], (0.5 * dist[0] + dist[1]) / 1.5, rtol=1e-5)
    np.testing.assert_allclose(users[1], 1 / 3, rtol=1e-6)


def test_user_intents_never_see_validation_or_test_items(tiny_themes) -> None:
    vectors, theme = tiny_themes.vectors()
    texts = tiny_themes.texts(theme)
    seqs = [np.array([0, 3, 6, 9, 1]), np.array([1, 4, 7, 10, 2]), np.array([2, 5, 8])]
    changed = [s.copy() for s in seqs]
    changed[0][-2:] = [2, 5]  # other valid/test items for user 0 (other theme)
    changed[2][-1] = 0
    base = extract_intents(vectors, texts, split_from_sequences(seqs, 11).train_sequences, CFG, LocalBackend())
    moved = extract_intents(vectors, texts, split_from_sequences(changed, 11).train_sequences, CFG, LocalBackend())
    np.testing.assert_array_equal(base[3], moved[3])
    changed[0][0] = 2  # a TRAINING item does change the user's intents (the test can fail)
    trained = extract_intents(vectors, texts, split_from_sequences(changed, 11).train_sequences, CFG, LocalBackend())
    assert not np.allclose(base[3][0], trained[3][0])


def test_build_and_show_a_users_intents(home: Home, tiny_themes) -> None:
    tiny_themes.fill_home(home)
    path = build_intents(home, cfg=CFG)
    intents = load_intents(home.config.artifacts_dir)
    assert path.parent.name == "intents" and len(intents.labels) == 3
    assert intents.user_dist.shape == (7, 3) and intents.item_dist.shape == (11, 3)
    top = show_user(home, "cust-1", n=2)
    assert len(top) == 2 and top[0][1] >= top[1][1]
    assert "baby" in top[0][0] or "feeding" in top[0][0] or "bottle" in top[0][0]  # user 1 buys baby items
    assert show_user(home, home.store_pseudonym("cust-1"), n=2) == top  # a stored pseudonym works too
    assert "baby" in intents.text(intents.user_dist[1]) or "bottle" in intents.text(intents.user_dist[1])
    with pytest.raises(IntentsError, match="no such user"):
        resolve_user(home, "nobody")


def test_build_needs_embeddings(home: Home) -> None:
    from appliance.data.artifacts import ArtifactError

    with pytest.raises(ArtifactError, match="item-embeddings"):
        build_intents(home, cfg=CFG)


def test_external_backend_sends_the_prompt_through_the_injected_function() -> None:
    sent: list[str] = []

    def send(prompt: str) -> str:
        sent.append(prompt)
        return '  "Outdoor Camping!"\nextra'

    backend = make_backend("external", CFG, send=send)
    assert isinstance(backend, ExternalBackend)
    assert backend.describe(["Tent A\nTent B", "Mug"]) == ["outdoor camping", "outdoor camping"]
    assert "Tent A\nTent B" in sent[0] and "Intent:" in sent[0]
    assert clean_label("") == ""
    with pytest.raises(IntentsError, match="unknown intents backend"):
        make_backend("cloud", CFG)


def _tiny_llm(path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = ["<unk>", "<pad>", "</s>", "tent", "mug", "camping", "coffee", "intent", ":", "items", "baby"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                            eos_token="</s>").save_pretrained(path)
    cfg = LlamaConfig(vocab_size=len(words), hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                      pad_token_id=1, eos_token_id=2, bos_token_id=2)
    import torch

    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(path)
    return path


def test_local_llm_backend_plumbing(tmp_path: Path) -> None:
    cfg = dataclasses.replace(CFG, llm_dir=str(_tiny_llm(tmp_path / "llm")), llm_max_new_tokens=4)
    backend = make_backend("local-llm", cfg)
    labels = backend.describe(["tent camping", "coffee mug"])
    assert len(labels) == 2 and all(isinstance(x, str) and x for x in labels)
    assert all(len(x.split()) <= 6 for x in labels)
    with pytest.raises(IntentsError, match="llm_dir"):
        make_backend("local-llm", dataclasses.replace(CFG, llm_dir=str(tmp_path / "absent")))


def test_external_backend_goes_through_the_gateway_to_the_loopback_standin(home: Home, monkeypatch) -> None:
    from appliance.config import AnonymizeConfig, EgressConfig
    from appliance.demo.llm_standin import LLMStandin
    from appliance.privacy.audit.log import AuditLog

    monkeypatch.setenv("TEST_EGRESS_KEY", "sk-test")
    with LLMStandin() as standin:
        egress = EgressConfig(enabled=True, base_url=standin.base_url, model="tiny-chat",
                              allowed_hosts=("127.0.0.1",), api_key_env="TEST_EGRESS_KEY", timeout_s=5.0,
                              allow_weakened_policy=True)  # use_ner=False below is weaker than shipped
        cfg = dataclasses.replace(home.config, egress=egress, anonymize=AnonymizeConfig(use_ner=False))
        gated = Home(cfg, home.engine)
        labels = make_backend("external", CFG, gated).describe(["Tent for jane.doe@example.com", "Coffee mug"])
        received = [r.json()["messages"][-1]["content"] for r in standin.requests]
    assert len(labels) == 2 and labels[0].startswith("stand-in answer")
    assert len(received) == 2 and "Coffee mug" in received[1]
    assert "jane.doe@example.com" not in received[0]  # anonymized before it left
    with AuditLog.open(cfg.audit_path, home.signing_key, cfg=cfg.audit) as log:
        actions = [e["body"]["action"] if "body" in e else e.get("action") for e in log.entries()]
    assert actions.count("egress.request") == 2


def _send(calls: list[str], fail_after: int | None = None) -> Callable[[str], str]:
    """A deterministic stand-in LLM (label from the prompt's hash) that dies after `fail_after` answers."""
    def send(prompt: str) -> str:
        if fail_after is not None and len(calls) >= fail_after:
            raise ConnectionError("backend went away")
        calls.append(prompt)
        return "label " + hashlib.sha256(prompt.encode()).hexdigest()[:8]
    return send


def test_interrupted_external_build_resumes_where_it_stopped(home: Home, tiny_themes) -> None:
    from appliance.data.artifacts import ArtifactError

    tiny_themes.fill_home(home)
    cfg, root = dataclasses.replace(CFG, backend="external"), home.config.artifacts_dir
    first: list[str] = []
    with pytest.raises(ConnectionError):
        build_intents(home, cfg=cfg, backend=ExternalBackend(send=_send(first, fail_after=1)))
    journal = root / "intents" / JOURNAL
    assert len(first) == 1 and len(journal.read_text().splitlines()) == 1
    assert "Trailmax" not in journal.read_text() and "Nubi" not in journal.read_text()  # keys, not prompts
    with pytest.raises(ArtifactError):
        load_intents(root)  # nothing half-written
    second: list[str] = []
    build_intents(home, cfg=cfg, backend=ExternalBackend(send=_send(second)))
    assert len(second) == 2 and first[0] not in second  # only the rest was asked for
    assert not journal.exists()
    resumed = load_intents(root)
    full: list[str] = []
    build_intents(home, cfg=cfg, backend=ExternalBackend(send=_send(full)))  # uninterrupted reference
    reference = load_intents(root)
    assert len(full) == 3 and sorted(full) == sorted(first + second)
    assert resumed.labels == reference.labels and all(x.startswith("label ") for x in resumed.labels)
    for name in ("prototypes", "item_dist", "user_dist", "item_ids", "user_ids"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(reference, name))


def test_journal_skips_finished_keys_and_ignores_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"key": "b", "answer": "bee"}\n{"key": "c", "ans', encoding="utf-8")  # crash mid-write
    asked: list[list[int]] = []

    def produce(pending: list[int]) -> list[str]:
        asked.append(pending)
        return [f"x{i}" for i in pending]

    assert run_journaled(["a", "b", "c"], produce, path, progress=False) == ["x0", "bee", "x2"]
    assert asked == [[0, 2]]
    assert read_journal(path) == {"a": "x0", "b": "bee", "c": "x2"}  # new lines parse after the torn one
    assert run_journaled(["a", "b", "c"], produce, path, progress=False) == ["x0", "bee", "x2"]
    assert asked == [[0, 2]]  # all done: the backend is not called again
    with pytest.raises(JournalError, match="1 of 2"):
        run_journaled(["d", "e"], lambda pending: ["only one"], path, progress=False)


def test_resumed_external_build_still_goes_through_the_gateway(home: Home, monkeypatch, tiny_themes) -> None:
    from appliance.config import AnonymizeConfig, EgressConfig
    from appliance.demo.llm_standin import LLMStandin
    from appliance.privacy.audit.log import AuditLog

    tiny_themes.fill_home(home)
    monkeypatch.setenv("TEST_EGRESS_KEY", "sk-test")
    cfg = dataclasses.replace(CFG, backend="external")
    with LLMStandin() as standin:
        egress = EgressConfig(enabled=True, base_url=standin.base_url, model="tiny-chat",
                              allowed_hosts=("127.0.0.1",), api_key_env="TEST_EGRESS_KEY", timeout_s=5.0,
                              allow_weakened_policy=True)  # use_ner=False below is weaker than shipped
        gated = Home(dataclasses.replace(home.config, egress=egress, anonymize=AnonymizeConfig(use_ner=False)),
                     home.engine)
        with pytest.raises(ConnectionError):  # first run: one label, then the connection drops
            build_intents(gated, cfg=cfg, backend=ExternalBackend(send=_send([], fail_after=1),
                                                                  purpose=egress.purpose))
        build_intents(gated, cfg=cfg)  # the configured backend: the egress gateway
        received = len(standin.requests)
    labels = load_intents(home.config.artifacts_dir).labels
    assert received == 2 and sum(x.startswith("stand-in answer") for x in labels) == 2
    assert sum(x.startswith("label ") for x in labels) == 1  # kept from the interrupted run
    with AuditLog.open(gated.config.audit_path, home.signing_key, cfg=gated.config.audit) as log:
        actions = [e["body"]["action"] if "body" in e else e.get("action") for e in log.entries()]
    assert actions.count("egress.request") == 2
