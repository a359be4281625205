"""A serving node set up the way installer/install.sh --serve-only and docs/INSTALL.md ("Serving nodes") say: the
training machine's keys copied in without signing.key, `replica init`, an API key, a bundle copied (its directory
first, then CURRENT). The node starts not ready and answers the trainer's customers by their raw ids once CURRENT
names the copied bundle."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from appliance.config import load_config
from appliance.data.home import Home
from appliance.data.keys import SIGNING_FILE
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.replica import init_replica
from appliance.serve.server import loopback_json, serving_on_loopback
from export.cf import export_cf


def test_node_with_copied_keys_serves_a_copied_bundle(bundle_home: tuple[Home, Path], tmp_path: Path,
                                                      serve_sample) -> None:
    trainer, sample = bundle_home
    export_cf(trainer, "lightgcn", version="v1")
    node = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path / "node")})
    shutil.copytree(trainer.config.keys_dir, node.keys_dir, ignore=shutil.ignore_patterns(SIGNING_FILE))  # step 2
    assert init_replica(node).pseudonym_key_id == trainer.pseudonym_key.key_id  # step 3: keeps the copied keys
    token = create_key(node.data_dir / KEYS_FILE, "shop")  # step 4
    bundles = node.artifacts_dir / "bundles"
    shutil.copytree(trainer.config.artifacts_dir / "bundles" / "v1", bundles / "v1")  # step 5: the directory first
    with serving_on_loopback(node, watch_seconds=0.05) as port:  # step 6: starts with no CURRENT yet
        status, body = loopback_json(port, "GET", "/readyz")
        assert status == 503 and "no bundle published yet" in body["reason"]
        shutil.copy2(trainer.config.artifacts_dir / "bundles" / "CURRENT", bundles / "CURRENT")  # then CURRENT
        deadline = time.monotonic() + 10
        while loopback_json(port, "GET", "/readyz")[0] != 200:
            assert time.monotonic() < deadline, "the node did not load the copied bundle"
            time.sleep(0.05)
        customer = serve_sample.customers(sample)[0]
        status, body = loopback_json(port, "POST", "/v1/recommendations", {"user_id": customer, "k": 3}, token)
    assert status == 200 and len(body["items"]) == 3 and body["bundle"] == "v1"
