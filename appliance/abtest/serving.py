"""A/B serving ([abtest] in the config): which arm answers a recommendation request, the pilot fallback, the guard and
the exposure log, behind one `Experiment.answer` call that the HTTP app makes for customer requests (issue 18).

Per request: the customer's root pseudonym (under the first key of the pseudonym chain, so a `tanaban keys rotate`
mid-experiment moves nobody) picks the arm (appliance.abtest.assignment); the arm's source answers
(appliance.abtest.arms); the answer names its arm. Answers fall back to the fallback arm, and say why, when
- `outside_pilot`: an arm's bundle is a pilot (manifest `pilot.categories`) that does not cover the customer or the
  posted history: the experiment runs on the pilot's customers only, so in every arm alike;
- `arm_stopped`: the guard stopped the assigned arm (appliance.abtest.guard);
- `arm_error`: the assigned arm failed on this request (counted by the guard).
Fallback answers are not exposures: an experiment compares the arms on the customers they actually served. Requests
without a customer id (a posted history only) cannot be assigned: they are answered as without an experiment, named
arm `unassigned`. Served exposures are queued for the background writer (appliance.abtest.writer); the same list
shown again to the same customer by the same arm within abtest.exposure_repeat_seconds is not logged again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from prometheus_client import Counter

from appliance.abtest.arms import (
    ArmRequest,
    ArmSourceError,
    BundleSource,
    ListSource,
    Pseudonymize,
    champion_source,
    in_pilot,
    pilot_categories,
    popularity_source,
)
from appliance.abtest.assignment import Assigner, assignment_key, assignment_key_id
from appliance.abtest.guard import ArmGuard, GuardLimits, state_path
from appliance.abtest.writer import ExposureWriter
from appliance.serve.answers import Answer
from appliance.serve.errors import RequestError, ServeError

if TYPE_CHECKING:
    from appliance.config import AbTestConfig, ApplianceConfig

UNASSIGNED = "unassigned"  # the arm named by answers no arm was assigned for (no customer id)
FALLBACKS = ("outside_pilot", "arm_stopped", "arm_error")
ARM_CACHE = 100_000  # pseudonyms whose arm (and last logged list) is remembered, ~15 MB each; then start over
log = logging.getLogger("tanaban.abtest")


class Served(NamedTuple):
    """An answer and the arm that gave it; `fallback` says why it is not the assigned arm's (None: it is)."""

    answer: Answer
    arm: str
    fallback: str | None
    bundle: Any  # the bundle that answered (its explanations), None for list sources
    experiment: str


class AbMetrics:
    """The experiment's Prometheus series (registered with the app's registry by `bind`)."""

    def __init__(self) -> None:
        self.answers = Counter("tanaban_abtest_answers", "Recommendation answers under the experiment, by the arm "
                               "that served them and the fallback reason (none: the assigned arm)",
                               ("arm", "fallback"), registry=None)
        self.exposures = Counter("tanaban_abtest_exposures", "Exposure rows by outcome: written to the store, "
                                 "dropped (queue full) or failed (store error)", ("outcome",), registry=None)
        self.trips = Counter("tanaban_abtest_guard_trips", "Arms stopped by the guard in this process",
                             ("arm",), registry=None)
        self._children: dict[tuple[str, str], Any] = {}

    def bind(self, registry: Any) -> None:
        if registry is not None:
            for metric in (self.answers, self.exposures, self.trips):
                registry.register(metric)

    def answered(self, arm: str, fallback: str | None) -> None:
        child = self._children.get((arm, fallback or "none"))
        if child is None:
            child = self._children[(arm, fallback or "none")] = self.answers.labels(arm, fallback or "none")
        child.inc()


class Experiment:
    """The configured arms with their sources, the assignment key, the guard and the exposure writer."""

    def __init__(self, cfg: AbTestConfig, sources: dict[str, Any], default: BundleSource, fallback: tuple[str, Any],
                 key: bytes, key_ids: tuple[str, str], pseudonymize: Pseudonymize, writer: ExposureWriter | None,
                 guard: ArmGuard, metrics: AbMetrics, wall: Callable[[], float] = time.time) -> None:
        self.name, self.sources, self.default = cfg.experiment, sources, default
        self.assign = Assigner(cfg.arms, key, cfg.experiment) if cfg.arms else None
        self.fallback_name, self.fallback_source = fallback
        self.key, self.key_id = key, assignment_key_id(key)
        self.root_key_id, self.current_key_id = key_ids  # the chain's first key (assignment), its current one
        self.pseudonymize, self.writer, self.guard, self.metrics, self.wall = pseudonymize, writer, guard, metrics, wall
        self._bundle_sources = [s for s in (*sources.values(), default) if isinstance(s, BundleSource)]
        self._pilot_of: tuple[tuple[Any, ...], Any] = ((), None)  # (the bundles served, their pilot): cached
        self._arm_of: dict[str, str] = {}  # pseudonym -> arm: repeat customers skip the per-arm HMACs
        self._last_shown: dict[str, tuple[int, float]] = {}  # pseudonym -> (hash of the list logged, when)
        self.repeat_seconds, self.repeats = cfg.exposure_repeat_seconds, 0  # repeats: answers not logged again

    # --- the request path
    def answer(self, user_id: str | None, history: Sequence[str] | None, k: int, exclude: Sequence[str],
               explain: bool) -> Served:
        """The answer of the customer's arm (or the fallback's, saying why)."""
        request = ArmRequest(user_id, history, k, exclude, explain)
        memo: dict[str | None, str] = {}

        def pseudonym(raw: str, key_id: str | None) -> str:  # one HMAC chain per key id and request
            slot = key_id or self.current_key_id
            if slot not in memo:
                memo[slot] = self.pseudonymize(raw, key_id)
            return memo[slot]

        arm = UNASSIGNED
        if self.assign is not None and user_id is not None:
            token = pseudonym(user_id, self.root_key_id)
            arm = self._arm_of.get(token) or self._assigned(token)
        source = self.sources.get(arm, self.default)
        pilot = self._pilot()
        if arm != UNASSIGNED and self.guard.is_stopped(arm):
            return self._fallback(request, pseudonym, arm, "arm_stopped")
        if pilot is not None:
            if not in_pilot(pilot, request, pseudonym):
                return self._fallback(request, pseudonym, arm, "outside_pilot")
            if history is not None:  # the pilot's items only: the rest is outside its catalog
                request = request._replace(history=[s for s in history if s in pilot.sku_index])
        if arm == UNASSIGNED:  # not in the experiment: answered as without one, errors included
            answer, bundle = source.answer(request, pseudonym)
            self.metrics.answered(arm, None)
            return Served(answer, arm, None, bundle, self.name)
        start = time.perf_counter()
        try:
            answer, bundle = source.answer(request, pseudonym)
        except (RequestError, ServeError):
            raise  # the request's problem (unknown customer, empty history: 404) or no bundle loaded yet (503)
        except Exception as exc:
            self.guard.observe(arm, time.perf_counter() - start, True)
            log.error("A/B arm %s failed (%s); answered by the fallback arm", arm, type(exc).__name__)
            return self._fallback(request, pseudonym, arm, "arm_error")
        self.guard.observe(arm, time.perf_counter() - start, False)
        if self.writer is not None:
            self._expose(pseudonym(user_id or "", None), arm, answer)
        self.metrics.answered(arm, None)
        return Served(answer, arm, None, bundle, self.name)

    def _expose(self, token: str, arm: str, answer: Answer) -> None:
        """Queue the exposure, unless this customer was shown this very list by this arm less than
        abtest.exposure_repeat_seconds ago (a repeat page view: the first exposure already counts)."""
        skus = [item.sku for item in answer.items]
        now, shown = self.wall(), hash((arm, answer.bundle, *skus))
        last = self._last_shown.get(token)
        if last is not None and last[0] == shown and now - last[1] < self.repeat_seconds:
            self.repeats += 1
            return
        if len(self._last_shown) >= ARM_CACHE:
            self._last_shown.clear()
        self._last_shown[token] = (shown, now)
        self.writer.offer({"experiment": self.name, "token": token, "arm": arm, "items": skus,  # type: ignore[union-attr]
                           "bundle_id": answer.bundle, "ts": int(now)})

    def _assigned(self, token: str) -> str:
        """The arm of a pseudonym not in the cache: a pure function of it, so caching changes nothing but the cost."""
        if len(self._arm_of) >= ARM_CACHE:
            self._arm_of.clear()
        arm = self._arm_of[token] = self.assign(token)  # type: ignore[misc]
        return arm

    def _fallback(self, request: ArmRequest, pseudonym: Pseudonymize, arm: str, reason: str) -> Served:
        answer, bundle = self.fallback_source.answer(request, pseudonym)
        self.metrics.answered(self.fallback_name, reason)
        return Served(answer, self.fallback_name, reason, bundle, self.name)

    def _pilot(self) -> Any:
        """The pilot bundle of the experiment's bundle arms (the first whose manifest declares one), or None;
        looked up again only when a reload changed a bundle."""
        try:
            bundles = tuple(source.get() for source in self._bundle_sources)
        except ServeError:  # no bundle loaded yet: that arm's answer says so
            return None
        if bundles != self._pilot_of[0] or not bundles:
            self._pilot_of = (bundles, next((b for b in bundles if pilot_categories(b) is not None), None))
        return self._pilot_of[1]

    # --- the app's life
    def bind_metrics(self, registry: Any) -> None:
        self.metrics.bind(registry)

    def lifespan(self, inner: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
        """A FastAPI lifespan running `inner` and flushing the exposure writer on shutdown."""

        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[None]:
            try:
                if self.writer is not None:
                    self.writer.start()
                if inner is None:
                    yield
                else:
                    async with inner(app):
                        yield
            finally:
                if self.writer is not None:
                    self.writer.stop()

        return lifespan


def _source(spec: str, service: Any, cfg: ApplianceConfig, engine: Any, public_keys: Sequence[Any]) -> Any:
    """The arm source a config `source` names; raises ArmSourceError when it does not exist."""
    from appliance.serve.service import load_bundle

    kind, _, directory = spec.partition(":")
    if kind == "champion":
        return champion_source(engine, cfg.artifacts_dir)
    if kind == "popularity":
        return popularity_source(engine)
    if not directory:
        return BundleSource(service.current, "bundle")
    path = cfg.artifacts_dir / "bundles" / directory
    if not (path / "manifest.json").is_file():
        raise ArmSourceError(f"an arm's source is bundle:{directory}, but {path} holds no bundle: give a directory "
                             "name from `ls <artifacts>/bundles`, or export it first")
    bundle = load_bundle(path, public_keys)  # verified before anything is read
    return BundleSource(lambda: bundle, f"bundle:{directory}")


def build_experiment(cfg: ApplianceConfig, service: Any, pseudonymize: Pseudonymize) -> Experiment | None:
    """The experiment (or the pilot fallback alone) the config's [abtest] describes; None when it describes neither,
    and serving is unchanged. Raises ArmSourceError (a UserError) for a source that does not exist."""
    from appliance.data.keys import load_pseudonym_key
    from appliance.data.rotation import load_key_chain
    from appliance.data.store import open_store

    ab = cfg.abtest
    if not ab.experiment and not ab.fallback:
        return None
    engine = open_store(cfg.store)
    chain = load_key_chain(cfg.keys_dir, load_pseudonym_key(cfg.keys_dir))
    sources: dict[str, Any] = {}
    by_spec: dict[str, Any] = {}  # two arms on one source share it (one copy of the lists in memory)
    for arm in ab.arms:
        if arm.source not in by_spec:
            by_spec[arm.source] = _source(arm.source, service, cfg, engine, service.public_keys)
        sources[arm.name] = by_spec[arm.source]
    fallback = sources.get(ab.fallback) or by_spec.get(ab.fallback) or \
        _source(ab.fallback, service, cfg, engine, service.public_keys)
    metrics = AbMetrics()
    limits = GuardLimits(ab.guard_window_seconds, ab.guard_min_requests, ab.guard_error_rate, ab.guard_p99_ms)
    guard = ArmGuard(ab.experiment or "pilot", limits, state_path(cfg.data_dir) if ab.experiment else None,
                     on_trip=lambda arm, _: metrics.trips.labels(arm).inc())
    writer = None
    if ab.experiment:
        writer = ExposureWriter(engine, capacity=ab.exposure_queue, batch=ab.exposure_batch,
                                flush_seconds=ab.exposure_flush_seconds, retention_days=ab.exposure_retention_days,
                                count=lambda outcome, n: metrics.exposures.labels(outcome).inc(n))
    key = assignment_key(chain[0].secret, ab.salt)
    default = BundleSource(service.current, "bundle")
    log.info("A/B %s: arms %s, fallback %s, assignment key %s", ab.experiment or "(pilot fallback only)",
             ", ".join(f"{a.name}={a.source}@{a.weight:g}" for a in ab.arms) or "none", ab.fallback,
             assignment_key_id(key))
    return Experiment(ab, sources, default, (ab.fallback, fallback), key, (chain[0].key_id, chain[-1].key_id),
                      pseudonymize, writer, guard, metrics)


__all__ = ["FALLBACKS", "UNASSIGNED", "Experiment", "ListSource", "Served", "build_experiment"]
