"""Arm assignment by weighted rendezvous hashing: sticky, shares equal to the weights, minimal movement when weights
change, fresh per experiment name and per key, and the hashed input as documented."""

from __future__ import annotations

import hashlib
import hmac
import math

import numpy as np
import pytest

from appliance.abtest.assignment import (
    Assigner,
    AssignmentError,
    arm_uniform,
    arm_weights,
    assign_arm,
    assignment_key,
    assignment_key_id,
)
from appliance.config import AbArmConfig

KEY = assignment_key(b"\x07" * 32)
TOKENS = [f"usr-0123456789abcdef-{i:032x}" for i in range(12_000)]  # pseudonym-shaped tokens


def _assign(arms, tokens=TOKENS, key=KEY, experiment="exp") -> np.ndarray:
    return np.array([assign_arm(t, arms, key, experiment) for t in tokens])


def test_the_draw_is_64_bits_of_the_documented_hmac() -> None:
    token, arm = TOKENS[3], "treatment"
    tag = hmac.new(KEY, b"tanaban/abtest/v1\x00exp\x00treatment\x00" + token.encode(), hashlib.sha256).digest()
    assert arm_uniform(token, arm, KEY, "exp") == (int.from_bytes(tag[:8], "big") + 0.5) / 2 ** 64
    expected = min(("control", "treatment"), key=lambda a: -math.log(arm_uniform(token, a, KEY, "exp")))
    assert assign_arm(token, {"control": 1, "treatment": 1}, KEY, "exp") == expected


def test_sticky_and_independent_of_how_arms_are_given() -> None:
    as_dict = _assign({"a": 1.0, "b": 3.0}, TOKENS[:500])
    assert (as_dict == _assign({"a": 1.0, "b": 3.0}, TOKENS[:500])).all()
    configs = (AbArmConfig("a", "bundle", 1.0), AbArmConfig("b", "champion", 3.0))
    assert (as_dict == _assign(configs, TOKENS[:500])).all()
    assert (as_dict == _assign((("a", 2.0), ("b", 6.0)), TOKENS[:500])).all()  # only the ratio matters


@pytest.mark.parametrize("weights", [{"a": 1, "b": 1}, {"a": 1, "b": 3}, {"a": 5, "b": 3, "c": 2}])
def test_shares_match_the_weights(weights: dict[str, float]) -> None:
    arms = _assign(weights)
    total = sum(weights.values())
    for name, weight in weights.items():
        p = weight / total
        sd = math.sqrt(p * (1 - p) / len(TOKENS))
        assert abs((arms == name).mean() - p) < 5 * sd, (name, (arms == name).mean(), p)


def test_raising_one_weight_moves_customers_only_into_that_arm_and_only_the_needed_share() -> None:
    before = _assign({"a": 1, "b": 1, "c": 1})
    after = _assign({"a": 1, "b": 2, "c": 1})
    moved = before != after
    assert (after[moved] == "b").all() and (before[moved] != "b").all()
    assert abs(moved.mean() - (1 / 2 - 1 / 3)) < 0.02  # b's share went from 1/3 to 1/2: 1/6 had to move
    back = _assign({"a": 1, "b": 0.5, "c": 1})  # lowering b: only b's customers move, to a and c
    moved = before != back
    assert (before[moved] == "b").all() and set(back[moved]) == {"a", "c"}
    assert abs(moved.mean() - (1 / 3 - 0.2)) < 0.02


def test_adding_an_arm_takes_customers_only_into_it() -> None:
    before = _assign({"a": 1, "b": 1})
    after = _assign({"a": 1, "b": 1, "new": 1})
    moved = before != after
    assert (after[moved] == "new").all()
    assert abs(moved.mean() - 1 / 3) < 0.02


def test_a_new_experiment_name_or_key_is_a_fresh_assignment() -> None:
    first = _assign({"a": 1, "b": 1})
    for other in (_assign({"a": 1, "b": 1}, experiment="exp-2"), _assign({"a": 1, "b": 1}, key=assignment_key(
            b"\x07" * 32, salt="again"))):
        agree = (first == other).mean()
        assert abs(agree - 0.5) < 0.03, agree  # independent 50/50 assignments agree half the time


def test_the_key_is_derived_from_the_secret_and_salt_and_its_id_hides_it() -> None:
    assert assignment_key(b"\x07" * 32) == KEY and len(KEY) == 32
    assert assignment_key(b"\x07" * 32, "s") != KEY and assignment_key(b"\x08" * 32) != KEY
    assert len(assignment_key_id(KEY)) == 16 and assignment_key_id(KEY) not in KEY.hex()


@pytest.mark.parametrize("arms, fragment", [({}, "no arms"), ({"a": 0}, "weight"), ({"a": -1}, "weight"),
                                            ({"a": math.nan}, "weight"), ({"": 1}, "empty"),
                                            ((("a", 1), ("a", 2)), "share a name")])
def test_bad_arms_are_refused(arms, fragment: str) -> None:
    with pytest.raises(AssignmentError, match=fragment):
        arm_weights(arms)


@pytest.mark.parametrize("key", [KEY, b"\x01" * 100])  # a key over SHA-256's 64-byte block is hashed first
def test_the_serving_assigner_agrees_with_assign_arm(key: bytes) -> None:
    arms = {"a": 1.0, "b": 2.5, "c": 0.5}
    assigner = Assigner(arms, key, "exp")
    assert [assigner(t) for t in TOKENS[:2000]] == list(_assign(arms, TOKENS[:2000], key=key))
