"""Generative serving: cached top lists decoded at export equal live answers, and the cross-request micro-batcher
answers N concurrent requests exactly as N single requests with fewer beam searches (appliance.serve.batching);
the HTTP fast path answers generative requests as the route does; serve.mmap_tables maps generative tables too."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest

from appliance.config import ServeConfig, load_config
from appliance.data.home import Home, init_home, open_home
from appliance.data.keys import PUBLIC_FILE, load_public_key
from appliance.privacy.audit.log import AuditLog
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.batching import GenBatcher
from appliance.serve.decoder import GenerativeDecoder, GenServeError
from appliance.serve.errors import ServeError
from appliance.serve.http import create_app, explain_gap
from appliance.serve.node import build_service
from appliance.serve.service import GEN_PRECOMPUTED, GEN_PRECOMPUTED_SCORES, Answer, GenBundle, GenQuery
from appliance.serve.tables import MappedTables


@pytest.fixture(scope="module")
def gen_home(tmp_path_factory: pytest.TempPathFactory, serve_sample) -> tuple[Home, Path]:
    """A home with a tiny trained generative model exported (fp32) as a signed bundle, plus a CF bundle."""
    from appliance.generative.pipeline import train_gen
    from export.cf import export_cf
    from export.gen_bundle import export_gen_bundle

    tmp = tmp_path_factory.mktemp("gen_serve")
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp / "data")})
    init_home(cfg)
    home = open_home(cfg)
    serve_sample.ingest(home, tmp / "sample")
    serve_sample.random_codes(home)
    serve_sample.fake_cf(home, seed=1, labels=["a", "b", "c"])
    gen = dataclasses.replace(home.config.gen, preset="tiny", tasks=("seq",), max_epochs=2, valid_users=10, beam=8)
    train_gen(home, gen, progress=False)
    path = export_gen_bundle(home, quantize=False, progress=False)
    export_cf(home, "lightgcn")
    return home, path


@pytest.fixture(scope="module")
def bundle(gen_home: tuple[Home, Path]) -> GenBundle:
    home, path = gen_home
    return GenBundle.load(path, [load_public_key(home.config.keys_dir / PUBLIC_FILE)])


def _count_decodes(bundle: GenBundle, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = bundle.decoder.recommend_scored

    def counted(histories, *args, **kwargs):
        calls.append(len(histories))
        return real(histories, *args, **kwargs)

    monkeypatch.setattr(bundle.decoder, "recommend_scored", counted)
    return calls


def _skus(answer: Answer) -> list[str]:
    return [r.sku for r in answer.items]


def _history_skus(bundle: GenBundle, user: int) -> list[str]:
    return [bundle.items[i]["sku"] for i in bundle.seq_items[bundle.indptr[user]:bundle.indptr[user + 1]]]


def test_export_stores_signed_cached_lists_without_history(gen_home: tuple[Home, Path], bundle: GenBundle) -> None:
    _, path = gen_home
    files = json.loads((path / "manifest.json").read_text())["files"]
    assert GEN_PRECOMPUTED in files and GEN_PRECOMPUTED_SCORES in files
    home = gen_home[0]
    with AuditLog.open(home.config.audit_path, home.signing_key, cfg=home.config.audit) as log:
        gen, cf = [e for e in log.entries() if e["action"] == "bundle.publish"]  # export gen, then export cf
    assert gen["reason"] == f"bundle {path.name} kind generative; int8 no (decoder fp32); signed by key " \
                            f"{home.signing_key.key_id}" and gen["destination"] == {"file": str(path)}
    assert "kind cf" in cf["reason"]
    pre, scores = bundle.precomputed, bundle.precomputed_scores
    assert pre.dtype == np.int32 and pre.shape == (len(bundle.users), 8) and scores.shape == pre.shape
    assert (pre >= 0).mean() > 0.9
    for user in range(len(pre)):
        row = pre[user][pre[user] >= 0]
        assert len(set(row.tolist())) == len(row)
        assert not np.isin(row, bundle.seq_items[bundle.indptr[user]:bundle.indptr[user + 1]]).any()
        assert (np.diff(scores[user][pre[user] >= 0]) <= 1e-6).all()  # best first


@pytest.mark.parametrize("k", [1, 5, 8])
def test_cached_answer_equals_live_answer_for_the_same_history(bundle: GenBundle, k: int) -> None:
    for pseudonym, user in list(bundle.users.items())[:8]:
        cached = bundle.for_user(pseudonym, k)
        live = bundle.for_history(_history_skus(bundle, user), k)
        assert cached.source == "cached" and live.source == "live"
        assert _skus(cached) == _skus(live) and len(cached.items) == k
        np.testing.assert_allclose([r.score for r in cached.items], [r.score for r in live.items], atol=1e-4)


def test_cache_falls_back_to_live_when_too_short(bundle: GenBundle) -> None:
    pseudonym, user = next(iter(bundle.users.items()))
    full = bundle.for_user(pseudonym, 8)
    dropped = _skus(full)[:2]
    still_cached = bundle.for_user(pseudonym, 6, exclude=dropped)
    assert still_cached.source == "cached" and _skus(still_cached) == _skus(full)[2:]
    live = bundle.for_user(pseudonym, 7, exclude=dropped)  # 8 cached - 2 excluded < 7: decoded live
    assert live.source == "live" and len(live.items) == 7 and not set(dropped) & set(_skus(live))
    longer = bundle.for_user(pseudonym, 12)  # longer than the beam: live, and it extends the cached list
    assert longer.source == "live" and len(longer.items) == 12
    assert not set(_skus(longer)) & set(_history_skus(bundle, user))


def test_batcher_answers_concurrent_requests_like_single_ones(bundle: GenBundle,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    users = list(bundle.users.values())[:12]
    queries = [GenQuery(bundle.seq_items[bundle.indptr[u]:bundle.indptr[u + 1]],
                        bundle.precomputed[u][: i % 3].astype(np.int64), 1 + i % 8 if i != 5 else 11)
               for i, u in enumerate(users)]  # mixed k (one above the beam) and mixed exclusions
    singles = [bundle.decode_many([q])[0] for q in queries]
    calls = _count_decodes(bundle, monkeypatch)
    batcher = GenBatcher(max_batch=16, wait_ms=50)

    async def run() -> list[Answer]:
        return await asyncio.gather(*(batcher.answer(bundle, q) for q in queries))

    batched = asyncio.run(run())
    assert [_skus(a) for a in batched] == [_skus(a) for a in singles]
    for a, b in zip(batched, singles, strict=True):
        np.testing.assert_allclose([r.score for r in a.items], [r.score for r in b.items], atol=1e-4)
    assert len(calls) < len(queries) and sum(calls) == len(queries)
    assert len(calls) == 2  # one search for every k up to the beam, one for k = 11
    assert batcher.batches == 1 and batcher.queries == len(queries)


def test_batcher_keeps_an_error_to_its_own_request(bundle: GenBundle) -> None:
    good = GenQuery(bundle.seq_items[:3], np.zeros(0, np.int64), 4)
    bad = GenQuery(np.array([10**6]), np.zeros(0, np.int64), 4)  # no such item: the decoder raises
    batcher = GenBatcher(max_batch=8, wait_ms=50)

    async def run() -> list[object]:
        return await asyncio.gather(batcher.answer(bundle, good), batcher.answer(bundle, bad),
                                    batcher.answer(bundle, good), return_exceptions=True)

    first, error, third = asyncio.run(run())
    assert isinstance(error, GenServeError) and "item index 1000000" in str(error)
    assert isinstance(first, Answer) and _skus(first) == _skus(third) == _skus(bundle.decode_many([good])[0])


def test_batcher_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="gen_batch_max"):
        GenBatcher(max_batch=0, wait_ms=1)


def test_http_batches_concurrent_live_requests(gen_home: tuple[Home, Path]) -> None:
    home, _ = gen_home
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    app = create_app(*build_service(home.config), serve_cfg=ServeConfig(gen_batch_max=32, gen_batch_wait_ms=50))
    gen = build_service(home.config)[3].bundle
    histories = [_history_skus(gen, u) for u in list(gen.users.values())[:10]]
    bodies = [{"history": h, "k": 3 + i % 4, "model": "generative"} for i, h in enumerate(histories)]

    async def run() -> tuple[list[httpx.Response], httpx.Response, str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers={"X-API-Key": token}) as c:
            got = await asyncio.gather(*(c.post("/v1/recommendations", json=b) for b in bodies))
            metrics = (await c.get("/metrics")).text
            return got, await c.post("/v1/recommendations", json={"history": [], "model": "generative"}), metrics

    responses, empty, metrics = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * len(bodies)
    for body, response in zip(bodies, responses, strict=True):
        want = gen.for_history(body["history"], body["k"])
        assert response.json()["source"] == "live" and [i["sku"] for i in response.json()["items"]] == _skus(want)
    assert empty.status_code == 404 and "empty history" in empty.text
    batches = float(next(line.split()[1] for line in metrics.splitlines() if line.startswith("tanaban_gen_batches")))
    assert 1 <= batches < len(bodies)


def test_http_user_request_is_cached_and_needs_no_decode(gen_home: tuple[Home, Path],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    home, _ = gen_home
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    service, keys, _, gen_service = build_service(home.config)
    pseudonym = next(iter(gen_service.bundle.users))
    calls = _count_decodes(gen_service.bundle, monkeypatch)
    app = create_app(service, keys, lambda raw, key_id=None: pseudonym if raw == "C1" else raw, gen_service)
    with TestClient(app) as client:  # runs the lifespan: the batcher stops cleanly on exit
        cached = client.post("/v1/recommendations", json={"user_id": "C1", "k": 5, "model": "generative"},
                             headers={"X-API-Key": token})
        live = client.post("/v1/recommendations", json={"user_id": "C1", "k": 20, "model": "generative"},
                           headers={"X-API-Key": token})
    assert cached.status_code == 200 and cached.json()["source"] == "cached" and len(cached.json()["items"]) == 5
    assert live.status_code == 200 and live.json()["source"] == "live" and len(live.json()["items"]) == 20
    assert calls == [1]  # only the live request decoded


def test_generative_answers_carry_intent_reasons_when_the_bundle_has_tables(gen_home: tuple[Home, Path],
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    import export.intent_tables as tables
    from export.gen_bundle import export_gen_bundle

    home, _ = gen_home
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    service, keys, _, gen_service = build_service(home.config)
    assert gen_service.bundle.item_intents is None  # exported before any intents were built
    body = {"user_id": next(iter(gen_service.bundle.users)), "k": 3, "model": "generative", "explain": True}
    with TestClient(create_app(service, keys, lambda raw, key_id=None: raw, gen_service)) as client:
        plain = client.post("/v1/recommendations", json=body, headers={"X-API-Key": token}).json()
    assert all(not i["because"] for i in plain["items"]) and "tanaban intents build" in plain["explain_unavailable"]
    # the fix names the export that writes this bundle kind, whichever route served it (an A/B arm included)
    assert "`tanaban export gen`" in plain["explain_unavailable"]
    assert "`tanaban export gen`" in explain_gap(gen_service.bundle)

    n_items = len(gen_service.bundle.items)
    rng = np.random.default_rng(0)  # made-up text intents over the bundle's items: three labels
    item_dist = rng.dirichlet(np.ones(3), size=n_items).astype(np.float32)
    monkeypatch.setattr(tables, "intent_tables", lambda _home, _split: (item_dist, ["x", "y", "z"]))
    path = export_gen_bundle(home, quantize=False, progress=False)
    explained = GenBundle.load(path, [load_public_key(home.config.keys_dir / PUBLIC_FILE)])
    assert explained.item_intents == pytest.approx(item_dist) and explained.labels == ["x", "y", "z"]
    user = next(iter(explained.users))
    u = explained.users[user]
    seq = explained.seq_items[explained.indptr[u]:explained.indptr[u + 1]]
    assert explained.user_intents[u] == pytest.approx(item_dist[seq].mean(axis=0), abs=1e-6)
    for answer in (explained.for_user(user, 3, explain=True), explained.for_user(user, 30, explain=True),
                   explained.for_history(_history_skus(explained, u), 3, explain=True)):  # cached, live, history
        assert answer.items and all(1 <= len(r.because) <= 2 and r.because[0][0] in "xyz" for r in answer.items)
    assert all(not r.because for r in explained.for_user(user, 3).items)  # only when asked


def test_fast_path_answers_generative_requests_as_the_route_does(gen_home: tuple[Home, Path], serve_sample,
                                                                 fast_path_parity) -> None:
    """With a generative bundle loaded, `model: generative` requests (cached lists, live decodes through the
    micro-batcher, their errors) and main-bundle requests get the same status, body, headers, metrics (beam searches
    counted alike) and access log through the middleware's fast path as through FastAPI's route."""
    home, _ = gen_home
    token = create_key(home.config.data_dir / KEYS_FILE, "parity")
    customers = serve_sample.customers(home.config.data_dir.parent / "sample")
    gen = build_service(home.config)[3].bundle
    history = _history_skus(gen, 0)
    ok = {"X-API-Key": token, "X-Request-ID": "fixed-id"}
    cases = [
        ({"user_id": customers[0], "k": 5, "model": "generative"}, ok),  # cached
        ({"user_id": customers[1], "k": 20, "model": "generative", "explain": True}, ok),  # k > beam: live
        ({"history": history, "k": 3, "model": "generative"}, ok),  # live
        ({"history": history, "k": 4, "model": "generative", "exclude": [gen.items[0]["sku"]]}, ok),
        ({"user_id": customers[2], "k": 3}, ok),  # the main bundle's default model
        ({"history": history, "k": 3, "model": "lightgcn", "explain": True}, ok),
        ({"history": ["no-such-sku"], "model": "generative"}, ok),  # 404
        ({"history": [], "model": "generative"}, ok),  # 404
        ({"user_id": "nobody-at-all", "model": "generative"}, ok),  # 404
        ({"k": 3, "model": "generative"}, ok),  # 422 neither user_id nor history
        ({"user_id": customers[0], "model": "generative"}, {"X-Request-ID": "fixed-id"}),  # 401
    ]
    fast, route, answered = fast_path_parity.run(
        lambda: create_app(*build_service(home.config), serve_cfg=ServeConfig(gen_batch_wait_ms=0)), cases)
    assert answered == [True] * len(cases)
    assert [status for status, _, _ in fast[0]] == [200] * 6 + [404, 404, 404, 422, 401]
    assert [json.loads(body)["source"] for _, body, _ in fast[0][:4]] == ["cached", "live", "live", "live"]
    for (case, _), got, expected in zip(cases, fast[0], route[0], strict=True):
        assert got == expected, case
    assert fast[1:] == route[1:] and "tanaban_gen_batched_queries_total 3.0" in fast[1]


def _gen_answers(bundle: GenBundle) -> list[Answer]:
    users = list(bundle.users)[:10]
    return ([bundle.for_user(u, 5, explain=True) for u in users] + [bundle.for_user(users[0], 20)]
            + [bundle.for_history(_history_skus(bundle, 1), 4, exclude=[bundle.items[0]["sku"]])])


def test_mapped_generative_tables_answer_exactly_as_tables_in_memory(gen_home: tuple[Home, Path],
                                                                     tmp_path: Path) -> None:
    """serve.mmap_tables for generative bundles (appliance.serve.tables, as for CF and SASRec): the tables are
    private, hash-checked copies, mapped read-only, that answer as tables in memory; overwriting the bundle's files in
    place after load changes no answer; the hashes checked are those of the manifest the decoder verified."""
    home, path = gen_home
    keys = [load_public_key(home.config.keys_dir / PUBLIC_FILE)]
    bundle_dir = shutil.copytree(path, tmp_path / path.name)  # damaged below: the module's bundle stays intact
    private = tmp_path / "tables"
    plain = GenBundle.load(bundle_dir, keys)
    mapped = GenBundle.load(bundle_dir, keys, MappedTables(private, min_bytes=0))
    for name in ("indptr", "seq_items", "precomputed", "precomputed_scores"):
        table = getattr(mapped, name)
        assert isinstance(table, np.memmap) and not table.flags.writeable
        assert not isinstance(getattr(plain, name), np.memmap)
        np.testing.assert_array_equal(table, getattr(plain, name))
    assert list(private.iterdir()) == []  # copied, checked, mapped, unlinked
    before = _gen_answers(plain)
    assert _gen_answers(mapped) == before and {a.source for a in before} == {"cached", "live"}

    for name, value in ((GEN_PRECOMPUTED, -1), (GEN_PRECOMPUTED_SCORES, 0), ("seq_items.npy", 0)):
        table = np.load(bundle_dir / name, mmap_mode="r+")  # the file itself, same inode: as `cp` over it would
        table[...] = value
        table.flush()
        del table
    assert not np.array_equal(np.load(bundle_dir / GEN_PRECOMPUTED), plain.precomputed)
    assert _gen_answers(mapped) == before

    with pytest.raises(ServeError, match=r"seq_items\.npy changed on disk after it was verified"):
        GenBundle(bundle_dir, GenerativeDecoder(path, public_keys=keys), MappedTables(private, min_bytes=0))
    with pytest.raises(ServeError, match="not in its signed manifest"):  # a decoder made without keys: no hashes
        GenBundle(path, GenerativeDecoder(path), MappedTables(private, min_bytes=0))
    assert list(private.iterdir()) == []


def test_a_node_with_mmap_tables_maps_the_generative_bundle_too(gen_home: tuple[Home, Path], serve_sample,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    import appliance.serve.node as node

    home, _ = gen_home
    token = create_key(home.config.data_dir / KEYS_FILE, "mapped")
    mapped_cfg = dataclasses.replace(home.config, serve=dataclasses.replace(home.config.serve, mmap_tables=True))
    # the sample's tables are small: map them all, as a node with a million customers would map its large ones
    monkeypatch.setattr(node, "MappedTables", lambda directory: MappedTables(directory, min_bytes=0))
    plain_parts, mapped_parts = build_service(home.config), build_service(mapped_cfg)
    assert isinstance(mapped_parts[3].current().precomputed, np.memmap)
    assert isinstance(mapped_parts[0].current().precomputed, np.memmap)
    assert not isinstance(plain_parts[3].current().precomputed, np.memmap)
    gen = plain_parts[3].current()
    customers = serve_sample.customers(home.config.data_dir.parent / "sample")
    bodies = [{"user_id": user, "k": 5, "model": "generative", "explain": True} for user in customers[:5]]
    bodies += [{"history": _history_skus(gen, 2), "k": 3, "model": "generative"}]
    answers = []
    for parts in (plain_parts, mapped_parts):
        with TestClient(create_app(*parts)) as client:
            answers.append([client.post("/v1/recommendations", json=b, headers={"X-API-Key": token}) for b in bodies])
    assert [r.status_code for r in answers[0]] == [200] * len(bodies)
    assert [r.json() for r in answers[0]] == [r.json() for r in answers[1]]
