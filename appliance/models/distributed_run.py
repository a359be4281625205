"""Launcher of `tanaban train sasrec|cf|gen --nproc N`: runs the training job on N local processes under torchrun
(torch.distributed.run, PyTorch's elastic launcher) with data-parallel training (appliance.models.distributed).

`run_job` writes a job file and runs `python -m torch.distributed.run --standalone --nproc-per-node N -m
appliance.models.distributed_run JOB`; each rank joins the group, trains, and rank 0 (under the store's writer lock)
evaluates, saves the artifact and writes the result back. torchrun ends every rank when one dies, and the command
fails with one line naming the exit status.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from appliance.errors import UserError
from appliance.models.distributed import DistributedError, current, process_group

JOB_KINDS = ("sasrec", "cf", "gen")


def run_job(kind: str, nproc: int, params: dict[str, Any], config_path: Path | None) -> dict[str, Any]:
    """Run training job `kind` ("sasrec", "cf" or "gen") on `nproc` local processes under torchrun; rank 0's result.

    `params` are JSON-able keyword arguments of the job (see `_run_rank`). The ranks print rank 0's progress on this
    process's stdout; a rank failing ends them all and raises DistributedError.
    """
    if kind not in JOB_KINDS:
        raise DistributedError(f"unknown training job {kind!r}: use one of {', '.join(JOB_KINDS)}")
    if nproc < 1:
        raise DistributedError(f"--nproc must be at least 1, got {nproc}")
    with tempfile.TemporaryDirectory(prefix="tanaban-ddp-") as tmp:
        job, result = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job.write_text(json.dumps({"kind": kind, "params": params, "result": str(result),
                                   "config": str(config_path) if config_path else None}), encoding="utf-8")
        threads = str(max(1, (os.cpu_count() or 1) // nproc))  # torchrun's default is 1 thread per rank
        env = {**os.environ, "GLOO_SOCKET_IFNAME": os.environ.get("GLOO_SOCKET_IFNAME", "lo"),
               "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", threads),
               "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[2]),
                                                         os.environ.get("PYTHONPATH", "")) if p)}
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
                   "-m", "appliance.models.distributed_run", str(job)]
        code = subprocess.run(command, env=env, check=False).returncode
        if code != 0:
            raise DistributedError(f"distributed training failed: a rank exited with status {code} (its error is "
                                   "printed above); torchrun stopped the others and nothing was saved")
        if not result.exists():
            raise DistributedError("distributed training ended without rank 0's result: see the output above")
        return json.loads(result.read_text(encoding="utf-8"))


def _run_rank(job: dict[str, Any]) -> dict[str, Any] | None:
    """One rank of a job: train; rank 0 (under the store's writer lock) evaluates, saves and returns the result."""
    from appliance.config import load_config
    from appliance.data.home import open_home

    home = open_home(load_config(job["config"]))
    try:
        return _train_rank(home, job)
    finally:
        home.engine.dispose()  # the rank leaves with os._exit: close the store's connections first


def _train_rank(home: Any, job: dict[str, Any]) -> dict[str, Any] | None:
    from appliance.data.pilot import PilotScope
    from appliance.models.training import epoch_progress

    group = current()
    params = dict(job["params"])
    scope = PilotScope.parse(params.pop("categories", None) or None)
    label = {"sasrec": "sasrec", "cf": params.get("model", "lightgcn"), "gen": "gen"}[job["kind"]]
    if job["kind"] == "gen":
        from appliance.config import GenConfig
        from appliance.generative.pipeline import train_gen

        fit_gen = train_gen if group.is_main else train_gen.__wrapped__  # type: ignore[attr-defined]
        result = fit_gen(home, GenConfig(**_tuples(params["cfg"])), progress=group.is_main)
        if not group.is_main:
            return None
        r = result.report
        return {"path": str(result.path), "valid": result.valid, "test": result.test,
                "report": {k: v for k, v in dataclasses.asdict(r).items() if k != "history"}}
    if job["kind"] == "sasrec":
        from appliance.config import SASRecConfig
        from appliance.models.sasrec import train_sasrec as train

        cfg = SASRecConfig(**_tuples(params.pop("cfg")))
        params["cfg"], total, metric = cfg, cfg.max_epochs, "ndcg@10"
    else:
        from appliance.models.graph_cf import train_cf as train

        total, metric = params.pop("total_epochs"), "score"
    fit = train if group.is_main else train.__wrapped__  # type: ignore[attr-defined]  # only rank 0 writes
    with epoch_progress(label, total, metric=metric, enabled=group.is_main) as report:
        path, metrics, info = fit(home, progress=report, scope=scope, **params)
    if not group.is_main:
        return None
    return {"path": str(path), "metrics": metrics, "epochs": info.epochs, "best_epoch": info.best_epoch,
            "best_score": info.best_score, "seconds": info.seconds}


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry of each rank under torchrun: `python -m appliance.models.distributed_run JOB.json`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: torchrun --standalone --nproc-per-node N -m appliance.models.distributed_run JOB.json",
              file=sys.stderr)
        return 2
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    with process_group() as group:
        result = _run_rank(job)
        if group.is_main and result is not None:
            Path(job["result"]).write_text(json.dumps(result, default=float), encoding="utf-8")
    return 0


def _leave(code: int) -> NoReturn:
    """End this rank now, skipping interpreter finalization: with gloo, a rank whose work is done (its result file
    written and closed, the group destroyed) sometimes died at finalization in libstdc++'s "terminate called without
    an active exception" (SIGABRT, about 1 run in 15 on 2 cores), which torchrun reports as a failed job."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    try:
        _leave(main())
    except UserError as exc:  # one line, as the CLI prints it; torchrun then stops the other ranks
        print(f"error: {exc}", file=sys.stderr)
        _leave(exc.exit_code)
