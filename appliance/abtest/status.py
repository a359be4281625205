"""`tanaban abtest status` and `resume`: the configured experiment as the serving nodes see it (arms, sources, shares,
fallback, assignment key id), which arms the guard stopped and why (appliance.abtest.guard), and the exposures logged
per arm (the store's exposures table, appliance.abtest.exposures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from appliance.abtest.assignment import assignment_key, assignment_key_id
from appliance.abtest.guard import resume_arm, stopped_arms
from appliance.data.store import Exposure
from appliance.errors import UserError


class NoExperimentError(UserError, RuntimeError):
    """No experiment is configured ([abtest] experiment is empty), so there is nothing to show or resume."""


@dataclass(frozen=True)
class ArmStatus:
    name: str
    source: str
    weight: float
    share: float  # of assigned customers: weight / sum of weights
    stopped: str | None  # the guard's reason, None while serving
    stopped_at: int | None  # unix seconds
    exposures: int  # rows in the exposure log


@dataclass(frozen=True)
class ExperimentStatus:
    experiment: str
    fallback: str
    key_id: str  # id of the assignment key (appliance.abtest.assignment.assignment_key_id)
    arms: tuple[ArmStatus, ...]
    guard: dict[str, float]  # the thresholds

    def as_dict(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "fallback": self.fallback, "assignment_key_id": self.key_id,
                "guard": self.guard, "arms": [arm.__dict__ for arm in self.arms]}


def _configured(home: Any) -> Any:
    ab = home.config.abtest
    if not ab.experiment:
        raise NoExperimentError("no A/B experiment is configured: set [abtest] experiment, arms and fallback in the "
                                "config file (docs/ROLLOUT.md)")
    return ab


def experiment_status(home: Any) -> ExperimentStatus:
    """The status of the experiment `home`'s config describes."""
    ab = _configured(home)
    stopped = stopped_arms(home.config.data_dir, ab.experiment)
    with home.engine.connect() as conn:
        counts = dict(conn.execute(select(Exposure.arm, func.count()).where(Exposure.experiment == ab.experiment)
                                   .group_by(Exposure.arm)).all())
    total = sum(arm.weight for arm in ab.arms)
    arms = tuple(ArmStatus(arm.name, arm.source, arm.weight, arm.weight / total,
                           stopped.get(arm.name, {}).get("reason"), stopped.get(arm.name, {}).get("at"),
                           int(counts.get(arm.name, 0))) for arm in ab.arms)
    key = assignment_key(home.pseudonym_chain[0].secret, ab.salt)
    guard = {"window_seconds": ab.guard_window_seconds, "min_requests": ab.guard_min_requests,
             "error_rate": ab.guard_error_rate, "p99_ms": ab.guard_p99_ms}
    return ExperimentStatus(ab.experiment, ab.fallback, assignment_key_id(key), arms, guard)


def resume_stopped_arm(home: Any, arm: str) -> bool:
    """Lift the guard's stop of `arm` (serving workers pick it up within a second); False if it was not stopped."""
    ab = _configured(home)
    if arm not in {a.name for a in ab.arms}:
        raise NoExperimentError(f"experiment {ab.experiment} has no arm {arm!r}: the arms are "
                                f"{', '.join(a.name for a in ab.arms)}")
    return resume_arm(home.config.data_dir, ab.experiment, arm)
