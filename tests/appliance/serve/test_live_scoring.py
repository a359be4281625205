"""The live path of sequential/hybrid bundles (appliance.serve.sequential) against the batch code it replaced per
request: item-kNN scores of a posted history equal scipy's sparse product of the recency-weighted row to the bit,
and `fuse_one` gives the items and scores of appliance.models.fusion.fuse for one row, ties included. Random
similarity tables and lists (no torch, no bundle): these pin the arithmetic, tests/export/test_hybrid_export.py the
bundle end to end."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from appliance.models.fusion import FusionFit, TopLists, fuse, recency_weighted
from appliance.serve.sequential import KNN_RECENCY, SequentialBundle, _top, fuse_one


def _knn_bundle(similarity: sp.csr_matrix, decay: float) -> SequentialBundle:
    """Just enough of a SequentialBundle for knn_scores: the table and the fitted decay."""
    bundle = SequentialBundle.__new__(SequentialBundle)
    bundle.knn = similarity
    bundle._knn_canonical = similarity.has_canonical_format
    bundle.fusion = SimpleNamespace(params={KNN_RECENCY: decay})
    return bundle


def _reference_knn(similarity: sp.csr_matrix, seq: np.ndarray, decay: float) -> np.ndarray:
    """What knn_scores computed before: one recency-weighted csr row times the table."""
    row = recency_weighted([seq], similarity.shape[0], decay)
    return np.asarray((row @ similarity).toarray(), dtype=np.float32).ravel()


@pytest.mark.parametrize("decay", [1.0, 0.6, 0.35])
def test_knn_scores_equal_the_sparse_product_to_the_bit(decay: float) -> None:
    rng = np.random.default_rng(7)
    n = 400
    similarity = sp.random(n, n, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    similarity.data = rng.random(similarity.nnz, dtype=np.float32)  # arbitrary magnitudes, not round numbers
    bundle = _knn_bundle(similarity, decay)
    for length in (1, 2, 7, 30, 120):
        for _ in range(20):
            seq = rng.integers(0, n, size=length)  # repeats included: an item weighs by its latest occurrence
            got = bundle.knn_scores(seq)
            assert got.dtype == np.float32 and got.shape == (n,)
            np.testing.assert_array_equal(got, _reference_knn(similarity, seq, decay))


def test_knn_scores_with_duplicate_entries_take_the_product_path() -> None:
    rows, cols = np.array([0, 0, 1, 2]), np.array([3, 3, 1, 0])  # (0, 3) stored twice: not canonical
    similarity = sp.csr_matrix((np.array([0.1, 0.7, 0.3, 0.9], np.float32), (rows, cols)), shape=(4, 4))
    similarity.has_canonical_format = False
    bundle = _knn_bundle(similarity, 0.6)
    seq = np.array([2, 0, 1])
    np.testing.assert_array_equal(bundle.knn_scores(seq), _reference_knn(similarity, seq, 0.6))


def _lists(rng: np.random.Generator, n_items: int, width: int, ties: bool) -> TopLists:
    """One row's top list as `_fused` builds it: `_top` of random scores (coarse values when `ties`)."""
    scores = rng.integers(0, 5, n_items).astype(np.float32) if ties else rng.standard_normal(n_items, np.float32)
    masked = rng.choice(n_items, size=3, replace=False)
    top = _top(scores, masked, width)
    return TopLists(top[None, :], scores[top][None, :])


@pytest.mark.parametrize("method", ["minmax", "rrf"])
@pytest.mark.parametrize("weights", [(1.0, 0.5), (1.0, 0.0), (0.0, 0.0), (0.7, 3.0)])
@pytest.mark.parametrize("ties", [False, True])
def test_fuse_one_is_fuse_for_one_row(method: str, weights: tuple[float, float], ties: bool) -> None:
    rng = np.random.default_rng(len(method) + int(10 * sum(weights)) + ties)
    for trial in range(30):
        n_items = int(rng.integers(5, 300))
        width = int(rng.integers(1, 120))
        lists = [_lists(rng, n_items, width, ties), _lists(rng, n_items, width, ties)]
        for k in (1, 10, 50):
            expected = fuse(lists, weights, method, k)
            keep = expected.items[0] >= 0
            items, values = fuse_one(lists, weights, method, k)
            np.testing.assert_array_equal(items, expected.items[0][keep], err_msg=f"trial {trial} k {k}")
            np.testing.assert_array_equal(values, expected.scores[0][keep])
            assert values.dtype == np.float32


def test_fuse_one_three_components_and_empty_lists() -> None:
    rng = np.random.default_rng(3)
    lists = [_lists(rng, 200, 60, False) for _ in range(3)]
    expected = fuse(lists, (1.0, 0.5, 2.0), "minmax", 20)
    items, values = fuse_one(lists, (1.0, 0.5, 2.0), "minmax", 20)
    np.testing.assert_array_equal(items, expected.items[0])  # three sums may round in another order: values close
    np.testing.assert_allclose(values, expected.scores[0], rtol=1e-6)
    empty = TopLists(np.zeros((1, 0), np.int64), np.zeros((1, 0), np.float32))
    items, values = fuse_one([empty, empty], (1.0, 0.5), "rrf", 10)
    assert items.shape == (0,) and values.shape == (0,)


def test_a_zero_weight_component_is_not_scored() -> None:
    """`_fused` skips scoring a component whose weight is 0 (fuse ignores it), and answers as fuse would."""
    rng = np.random.default_rng(5)
    n = 50
    similarity = sp.random(n, n, density=0.2, format="csr", dtype=np.float32, random_state=rng)
    bundle = _knn_bundle(similarity, 0.6)
    bundle.fusion = FusionFit(("item-knn", "sasrec"), "minmax", (1.0, 0.0), params={KNN_RECENCY: 0.6})
    bundle.max_len = 5
    calls = []
    bundle.scores = lambda inputs: calls.append(inputs) or rng.standard_normal((1, n), np.float32)
    bundle._answer = lambda items, values, source, explain_for: (items, values)
    seq = np.array([1, 4, 9])
    items, values = bundle._fused(seq, seq, 10, None, bundle.fusion)
    assert calls == [] and values.dtype == np.float32
    knn = bundle.knn_scores(seq)
    top = _top(knn, seq, 100)
    expected = fuse([TopLists(top[None, :], knn[top][None, :]), TopLists(top[None, :], knn[top][None, :])],
                    (1.0, 0.0), "minmax", 10)
    np.testing.assert_array_equal(items, expected.items[0][expected.items[0] >= 0])


@pytest.mark.parametrize("ties", [False, True])
def test_top_is_the_exact_top_k_with_ties_to_the_lower_index(ties: bool) -> None:
    """`_top` (block-maxima cut) against appliance.models.contract.top_k (exact) on scores with excluded items, ties
    at the cut and all-but-a-few excluded."""
    from appliance.models.contract import top_k

    rng = np.random.default_rng(11 + ties)
    for trial in range(200):
        n = int(rng.integers(1, 3000))
        scores = (rng.integers(0, 4, n) if ties else rng.standard_normal(n)).astype(np.float32)
        if trial % 5 == 0:
            scores[rng.random(n) < 0.9] = 0.0  # mostly zeros: item-kNN far from the history
        excluded = rng.choice(n, size=int(rng.integers(0, n)) if trial % 7 == 0 else min(n, 3), replace=False)
        masked = scores.copy()
        masked[excluded] = -np.inf
        for k in (1, 10, 100):
            expected = top_k(masked[None, :], k)[0]
            np.testing.assert_array_equal(_top(scores, excluded, k), expected[expected >= 0],
                                          err_msg=f"trial {trial} n {n} k {k}")


def test_fast_path_answers_as_the_route_does(bundle_home, serve_sample, fast_path_parity) -> None:
    """POST /v1/recommendations through the middleware's fast path (appliance.serve.http._FastRecommendations) and
    through FastAPI's route give the same status, body and headers, for good requests and for every kind of bad one;
    the fast path really answers every request whose body parses (errors after parsing through the route's own
    error mapping, `error_for`) and hands the rest to the route; all are counted alike in the metrics and logged
    under the route's template."""
    from appliance.serve import http
    from appliance.serve.apikeys import KEYS_FILE, create_key
    from appliance.serve.node import build_service
    from export.cf import export_cf

    home, sample = bundle_home
    export_cf(home, "lightgcn", version="v1")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    customers = serve_sample.customers(sample)
    skus = [line.split('"sku": "')[1].split('"')[0] for line in (sample / "items.jsonl").read_text().splitlines()]
    rid = {"X-Request-ID": "fixed-id"}
    ok = {"X-API-Key": token, **rid}
    cases = [  # (body: dict or raw bytes, headers)
        ({"user_id": customers[0], "k": 4}, ok),
        ({"user_id": customers[1], "k": 3, "exclude": skus[:2], "explain": True}, ok),
        ({"history": skus[3:6], "k": 5}, ok),
        ({"history": skus[3:6], "k": 5, "model": "lightgcn", "explain": True}, ok),
        ({"history": skus[:2], "k": 2}, {"Authorization": f"Bearer {token}", "X-Request-ID": "fixed-id"}),
        ({"user_id": customers[0]}, {"X-Request-ID": "fixed-id"}),  # no key: 401
        ({"user_id": customers[0]}, {"X-API-Key": token + "x", "X-Request-ID": "fixed-id"}),  # bad key: 401
        ({"user_id": "nobody-at-all"}, ok),  # 404
        ({"history": ["no-such-sku"]}, ok),  # 404
        ({"history": []}, ok),  # 404 empty history
        ({"k": 3}, ok),  # neither user_id nor history: 422
        ({"user_id": customers[0], "k": 0}, ok),  # 422
        ({"user_id": customers[0], "k": True}, ok),  # 422 (not an integer)
        ({"user_id": customers[0], "colour": "red"}, ok),  # 422 unknown field
        ({"user_id": customers[0], "model": "sasrec"}, ok),  # 422 unknown model
        ({"user_id": customers[0], "model": "generative"}, ok),  # 503 no generative bundle
        (b'{"user_id": "a", "user_id": "b"}', ok),  # 422 duplicate key
        (b'{"user_id": NaN}', ok),  # 422 non-finite
        (b'["not", "an", "object"]', ok),  # 422
        (b"", ok),  # 422 missing body
        ({"history": skus[:3], "k": 3}, {"X-API-Key": "", "Authorization": f"bearer  {token} ", **rid}),  # any case
        ({"user_id": customers[2], "k": 2}, {"X-API-Key": token, "Authorization": "Bearer tnb_no", **rid}),  # key first
    ]

    fast, slow, answered = fast_path_parity.run(lambda: http.create_app(*build_service(home.config)), cases)
    parses = [True] * 11 + [False] * 3 + [True] * 2 + [False] * 4 + [True] * 2  # the body is a RecommendRequest
    assert answered == parses
    assert [status for status, _, _ in fast[0]] == [200] * 5 + [401, 401, 404, 404, 404, 422, 422, 422, 422, 422,
                                                                503, 422, 422, 422, 422, 200, 200]
    for (case, _), got, expected in zip(cases, fast[0], slow[0], strict=True):
        assert got == expected, case
    assert fast[1] == slow[1] and 'tanaban_requests_total{route="/v1/recommendations",status="200"} 7.0' in fast[1]
    assert fast[2] == slow[2] and len(fast[2]) == len(cases)  # the access log
    key_id = token.split("_")[1]
    assert [line[1:4] for line in fast[2][:6]] == [("/v1/recommendations", 200, key_id)] * 5 + [
        ("/v1/recommendations", 401, "-")]
    assert 'tanaban_requests_total{route="/v1/recommendations",status="422"} 9.0' in fast[1]


def test_fast_path_meets_a_bug_as_the_route_does(bundle_home, serve_sample, fast_path_parity, caplog) -> None:
    """A bug while answering (here: the bundle raising an unexpected error for one sku) is the same 500, logged
    the same way without its message, whether the fast path or the route met it; the next request is answered."""
    from appliance.serve import http
    from appliance.serve.apikeys import KEYS_FILE, create_key
    from appliance.serve.node import build_service
    from export.cf import export_cf

    home, sample = bundle_home
    export_cf(home, "lightgcn", version="v1")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    skus = [line.split('"sku": "')[1].split('"')[0] for line in (sample / "items.jsonl").read_text().splitlines()]

    def make_app():
        parts = build_service(home.config)
        bundle = parts[0].current()
        scored = bundle.for_history

        def for_history(history, *args, **kwargs):
            if history[0] == skus[0]:
                raise ZeroDivisionError(f"secret {history[0]}")  # a message that must never reach a log or a body
            return scored(history, *args, **kwargs)

        bundle.for_history = for_history
        return http.create_app(*parts)

    ok = {"X-API-Key": token, "X-Request-ID": "fixed-id"}
    cases = [({"history": skus[:2], "k": 3}, ok), ({"history": skus[1:3], "k": 3}, ok)]
    with caplog.at_level(logging.ERROR, logger="tanaban.serve"):
        fast, route, answered = fast_path_parity.run(make_app, cases)
    assert answered == [True, True] and [status for status, _, _ in fast[0]] == [500, 200]
    assert fast == route and json.loads(fast[0][0][1])["error"]["code"] == "internal_error"
    bugs = [r.getMessage() for r in caplog.records if "unexpected ZeroDivisionError" in r.getMessage()]
    assert len(bugs) == 2 and bugs[0] == bugs[1] and "/v1/recommendations" in bugs[0]
    assert not any(skus[0] in r.getMessage() for r in caplog.records)
