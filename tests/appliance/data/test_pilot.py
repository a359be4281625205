"""Pilot scope (appliance.data.pilot): category matching, the restricted split worked out by hand for leave-one-out
and a given split, the scoped split of the generated sample checked against its raw rows, and the error messages."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from appliance.config import load_config
from appliance.data.home import Home, init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.pilot import (
    MIN_PILOT_USERS,
    PilotScope,
    PilotScopeError,
    ScopeMismatchError,
    check_same_scope,
    load_scoped_split,
    pilot_meta,
    restrict_split,
    same_scope,
)
from appliance.data.splits import load_split, split_from_arrays, split_from_sequences
from appliance.data.store import Interaction, Item
from appliance.demo.sample import generate_sample


def _rows(matrix) -> list[list[int]]:
    return [sorted(matrix[u].indices.tolist()) for u in range(matrix.shape[0])]


# --- matching -------------------------------------------------------------------------------------------------------

def test_a_name_matches_its_level_and_everything_under_it_ignoring_case_and_spaces() -> None:
    scope = PilotScope.parse(["  skin   CARE "])
    assert scope.categories == ("skin CARE",)
    assert scope.matches(["Beauty", "Skin Care", "Serums"]) and scope.matches(["Beauty", "Skin Care"])
    assert scope.matches(["Beauty > Skin Care > Serums"])  # one stored string holding a path counts as its levels
    assert not scope.matches(["Beauty", "Hair Care"]) and not scope.matches(["Skin"]) and not scope.matches([])


def test_a_path_tells_apart_same_names_and_must_be_consecutive_levels() -> None:
    baby, hiking = ["Baby", "Feeding", "Bottles"], ["Outdoor", "Hiking", "Bottles"]
    bottles, feeding = PilotScope.parse(["Bottles"]), PilotScope.parse(["feeding>bottles"])
    assert bottles.matches(baby) and bottles.matches(hiking)
    assert feeding.matches(baby) and not feeding.matches(hiking)
    assert feeding.categories == ("feeding > bottles",)
    assert not PilotScope.parse(["Baby > Bottles"]).matches(baby)  # Bottles is not directly under Baby


def test_several_categories_are_a_union_and_spelling_or_order_do_not_change_the_scope() -> None:
    scope = PilotScope.parse(["Beauty", "Kitchen", "Pet", "beauty"])
    assert scope.categories == ("Beauty", "Kitchen", "Pet")  # the second spelling of Beauty counts once
    assert scope.matches(["Pet", "Dogs"]) and scope.matches(["Kitchen"]) and not scope.matches(["Baby"])
    assert same_scope(scope, PilotScope.parse(["PET", "kitchen", "Beauty"]))
    assert not same_scope(scope, PilotScope.parse(["Beauty"])) and not same_scope(scope, None)
    assert same_scope(None, None) and PilotScope.parse(None) is None and PilotScope.parse([]) is None
    assert scope.options() == "--category Beauty --category Kitchen --category Pet"
    assert PilotScope.parse(["Coffee & Tea"]).options() == "--category 'Coffee & Tea'"
    assert PilotScope.parse(["Bath, Shower"]).matches(["Beauty", "Bath, Shower"])  # a comma is part of a name


@pytest.mark.parametrize("value, fragment", [(["Baby >"], "has an empty level"), ([" > Feeding"], "empty level"),
                                             (["Beauty", " "], "without a name")])
def test_unusable_category_values_say_how_to_write_one(value: list[str], fragment: str) -> None:
    with pytest.raises(PilotScopeError, match=fragment):
        PilotScope.parse(value)


def test_scope_records_round_trip_and_mismatches_name_both_ways_out() -> None:
    split = split_from_sequences([np.array([0, 1, 2])], 3)
    scope = PilotScope.parse(["Beauty", "Kitchen > Tools"])
    meta = pilot_meta(scope, split)
    assert meta == {"pilot": {"categories": ["Beauty", "Kitchen > Tools"], "items": 3, "users": 1}}
    assert same_scope(PilotScope.from_record(meta["pilot"]), scope) and pilot_meta(None, split) == {}
    check_same_scope("the model m", meta, scope, "retrain it")  # same scope: no error
    with pytest.raises(ScopeMismatchError, match=r"^the model m was trained for the pilot scope 'Beauty', 'Kitchen > "
                                                 r"Tools', this command asks for the whole catalog: pass --category "
                                                 r"Beauty --category 'Kitchen > Tools', or retrain it$"):
        check_same_scope("the model m", meta, None, "retrain it")
    with pytest.raises(ScopeMismatchError, match=r"trained for the whole catalog, this command asks for the pilot "
                                                 r"scope 'Pet': leave out --category, or retrain it$"):
        check_same_scope("the model m", {}, PilotScope.parse(["Pet"]), "retrain it")


# --- the restricted split, by hand ----------------------------------------------------------------------------------

KEEP = np.array([True, True, True, False, False, True])  # items 0, 1, 2 and 5 are in the pilot


def test_leave_one_out_holds_out_the_last_in_scope_items() -> None:
    sequences = [np.array([0, 3, 1, 4, 2, 5]), np.array([3, 4, 0]), np.array([3, 4]), np.array([5, 1, 0, 2])]
    full = split_from_sequences(sequences, 6, user_ids=np.array([10, 11, 12, 13]),
                                item_ids=np.array([100, 101, 102, 103, 104, 105]))
    assert _rows(full.test) == [[5], [0], [], [2]]  # user 11's test item is in scope, but only one of its items is
    pilot = restrict_split(full, KEEP)
    assert pilot.protocol == "leave-one-out"
    assert pilot.user_ids.tolist() == [10, 11, 13]  # user 12 bought nothing in scope
    assert pilot.item_ids.tolist() == [100, 101, 102, 105]  # new indices: 0, 1, 2, 3 (105)
    # user 10: in-scope history 0, 1, 2, 105 -> train 0, 1; valid 2; test 105. User 11: one item, all training.
    # User 13: 105, 1, 0, 2 -> train 105, 1; valid 0; test 2.
    assert [s.tolist() for s in pilot.train_sequences] == [[0, 1], [0], [3, 1]]
    assert _rows(pilot.valid) == [[2], [], [0]] and _rows(pilot.test) == [[3], [], [2]]
    assert pilot.n_items == 4 and pilot.n_users == 3
    everything = restrict_split(full, np.ones(6, dtype=bool))  # keeping all is the identity
    for name in ("train", "valid", "test"):
        assert (getattr(everything, name) != getattr(full, name)).nnz == 0
    assert [s.tolist() for s in everything.train_sequences] == [s.tolist() for s in full.train_sequences]
    assert restrict_split(full, KEEP, min_items=3).user_ids.tolist() == [10, 13]


def test_a_given_split_keeps_each_rows_label() -> None:
    users = np.array([0, 0, 0, 0, 1, 1])
    items = np.array([0, 3, 1, 2, 3, 5])
    labels = np.array([0, 0, 1, 2, 0, 2])
    full = split_from_arrays(users, items, 2, 6, labels=labels)
    pilot = restrict_split(full, KEEP)
    assert pilot.protocol == "given" and pilot.user_ids.tolist() == [0, 1]
    assert [s.tolist() for s in pilot.train_sequences] == [[0], []]
    assert _rows(pilot.valid) == [[1], []] and _rows(pilot.test) == [[2], [3]]
    with pytest.raises(ValueError, match="one entry per item"):
        restrict_split(full, KEEP[:4])


# --- the generated sample -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, Path]:
    """An initialised home holding the generated sample (300 items, 200 customers) and the sample's directory."""
    root = tmp_path_factory.mktemp("pilot")
    generate_sample(root / "sample", seed=0, n_items=300, n_users=200)
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(root / "data")})
    init_home(cfg)
    home = open_home(cfg)
    ingest_file(home, root / "sample" / "items.jsonl", "items", progress=False)
    ingest_file(home, root / "sample" / "interactions.csv", "interactions", progress=False)
    return home, root / "sample"


def test_the_scoped_split_of_the_sample_matches_its_raw_rows(sample: tuple[Home, Path]) -> None:
    home, directory = sample
    scope = PilotScope.parse(["beauty", "Coffee & Tea"])
    with (directory / "items.jsonl").open(encoding="utf-8") as fh:
        in_scope = {r["sku"] for r in map(json.loads, fh) if r["categories"][0] == "Beauty"
                    or r["categories"][1] == "Coffee & Tea"}
    with (directory / "interactions.csv").open(encoding="utf-8") as fh:
        customers = {r["customer_id"] for r in csv.DictReader(fh) if r["sku"] in in_scope}
    pilot = load_scoped_split(home.engine, scope)
    with home.engine.connect() as conn:
        sku = dict(conn.execute(select(Item.id, Item.sku)).all())
        rows = conn.execute(select(Interaction.user_id, Interaction.item_id)
                            .order_by(Interaction.user_id, Interaction.ts, Interaction.id)).all()
    assert {sku[int(i)] for i in pilot.item_ids} == in_scope  # items nobody bought are in the pilot's catalog too
    assert pilot.n_users == len(customers) and pilot.n_users < load_split(home.engine).n_users
    history: dict[int, list[int]] = {}
    for user, item in rows:  # each customer's distinct in-scope items, in time order
        if sku[item] in in_scope and item not in history.setdefault(user, []):
            history[user].append(item)
    assert sorted(history) == pilot.user_ids.tolist()
    evaluated = 0
    for u, user in enumerate(pilot.user_ids):
        items = history[int(user)]
        test, valid = pilot.item_ids[pilot.test[u].indices], pilot.item_ids[pilot.valid[u].indices]
        if len(items) >= 3:
            evaluated += 1
            assert test.tolist() == [items[-1]] and valid.tolist() == [items[-2]]
            assert pilot.item_ids[pilot.train_sequences[u]].tolist() == items[:-2]
        else:
            assert len(test) == 0 and pilot.item_ids[pilot.train_sequences[u]].tolist() == items
    assert evaluated >= MIN_PILOT_USERS and load_scoped_split(home.engine, None).n_users == 200


def test_a_category_that_matches_nothing_names_the_closest_ones(sample: tuple[Home, Path]) -> None:
    home, _ = sample
    with pytest.raises(PilotScopeError, match=r"^no item is in the category 'Grinderz': the closest existing "
                                              r"categories are 'Grinders' \(matching ignores case\); pass one of "
                                              r"them to --category$"):
        load_scoped_split(home.engine, PilotScope.parse(["Beauty", "Grinderz"]))
    with pytest.raises(PilotScopeError, match=r"no category name is alike; the top-level categories are 'Beauty', "):
        load_scoped_split(home.engine, PilotScope.parse(["xyzzy"]))
    with pytest.raises(PilotScopeError, match=r"no item lies under the path 'Baby > Bottles': each name exists, but "
                                              r"never one directly under the other; these paths hold them in order: "
                                              r"'Baby > Feeding > Bottles'"):
        load_scoped_split(home.engine, PilotScope.parse(["Baby > Bottles"]))


def test_a_scope_with_too_few_customers_to_evaluate_suggests_a_broader_one(sample: tuple[Home, Path]) -> None:
    home, _ = sample
    with pytest.raises(PilotScopeError, match=r"^the pilot scope 'grinders' leaves 2 customers with a held-out "
                                              r"validation and test item in it .*\(at least 20 are needed\): add "
                                              r"categories \(--category is repeatable\) or choose a broader one "
                                              r"\(e.g. 'Coffee & Tea'\)$"):
        load_scoped_split(home.engine, PilotScope.parse(["grinders"]))
    assert load_scoped_split(home.engine, PilotScope.parse(["grinders"]), min_users=2).n_users > 2
