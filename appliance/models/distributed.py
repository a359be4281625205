"""Data-parallel training on one machine with PyTorch's own DistributedDataParallel (DDP; Li et al., VLDB 2020,
"PyTorch Distributed: Experiences on Accelerating Data Parallel Training"), launched by `torchrun`
(torch.distributed.run, the torchelastic launcher). Backend gloo on CPU; when CUDA is available the group is
"cpu:gloo,cuda:nccl", so tensors on a GPU go over NCCL and CPU tensors over gloo.

What is distributed: every rank holds the whole model and the whole training data, draws the same seeded order of
examples, and takes the strided share `global_batch[rank::world]` of each global batch (DistributedSampler's rule,
applied per batch, so one process with batch B and W processes with B/W each see the same examples in the same
steps). DDP all-reduces (averages) the gradients; each rank scales its loss by `local_n * world / global_n` so the
average equals the single-process mean loss of the global batch (exact for losses that are sums over examples:
SASRec's cross-entropy, BPR + L2; batch-coupled terms such as InfoNCE are computed within each share). The
wall-clock budget is decided on rank 0 and broadcast (all ranks stop on the same batch); validation runs on rank 0
and its score is broadcast, so every rank takes the same early-stopping decision; only rank 0 reports progress,
evaluates on test and writes the artifact. Graph models replicate the full-graph propagation on every rank and split
the BPR batches. Rendezvous is on loopback only (GLOO_SOCKET_IFNAME / NCCL_SOCKET_IFNAME default to `lo`).

The launcher behind `tanaban train ... --nproc N` is appliance.models.distributed_run.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import ipaddress
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from appliance.errors import UserError

T = TypeVar("T")
TIMEOUT_S = 1800  # a collective waiting this long means a rank hung: the group fails instead of waiting forever


class DistributedError(UserError, RuntimeError):
    """Distributed training cannot start or a rank failed (bad --nproc, non-loopback rendezvous, a rank died)."""


@dataclass(frozen=True)
class Dist:
    """This process's place in the group; the default (world 1) is plain single-process training, no communication."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    backend: str = ""  # "" when not distributed

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, cuda: bool) -> torch.device:
        """The device this rank trains on: its GPU (chosen from LOCAL_RANK by `process_group`) if `cuda`, else CPU."""
        if not cuda:
            return torch.device("cpu")
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", self.world))
        if self.enabled and local_world > torch.cuda.device_count():
            raise DistributedError(f"{local_world} processes but {torch.cuda.device_count()} GPUs: NCCL needs one GPU "
                                   "per process; use --nproc at most the number of GPUs")
        return torch.device("cuda", torch.cuda.current_device())

    def share(self, rows: Sequence[T] | np.ndarray) -> tuple[Any, float]:
        """This rank's strided share of a global batch and its weight 1.0; a rank whose share is empty (a last
        batch smaller than the world) gets the first row with weight 0.0, so every rank still runs forward and
        backward (DDP needs all ranks in every all-reduce) and adds nothing to the gradient."""
        local = rows[self.rank::self.world]
        if len(local):
            return local, 1.0
        return rows[:1], 0.0

    def loss_scale(self, local_n: float, global_n: float) -> float:
        """Factor on a rank's mean loss over `local_n` units so DDP's gradient average equals the mean over the
        `global_n` units of the global batch (1.0 in a single process)."""
        return 1.0 if not self.enabled else float(local_n) * self.world / max(float(global_n), 1e-12)

    def wrap(self, module: nn.Module, *, find_unused: bool = False) -> nn.Module:
        """`module` in DistributedDataParallel (parameters broadcast from rank 0 now, gradients averaged in every
        backward); the module itself in a single process. Buffers are constants here: not re-broadcast per step."""
        if not self.enabled:
            return module
        params = next(module.parameters(), None)
        on_gpu = params is not None and params.is_cuda
        with warnings.catch_warnings():  # its successor forward_sync_buffers=False would still sync them at init
            warnings.filterwarnings("ignore", message=".*broadcast_buffers.*", category=FutureWarning)
            return nn.parallel.DistributedDataParallel(module, device_ids=[params.device.index] if on_gpu else None,
                                                       broadcast_buffers=False, find_unused_parameters=find_unused)

    def stop_now(self, flag: bool) -> bool:
        """Rank 0's `flag` on every rank (the wall-clock budget: all ranks stop on the same batch)."""
        if not self.enabled:
            return bool(flag)
        value = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self._comm_device())
        dist.broadcast(value, src=0)
        return bool(value.item())

    def from_main(self, compute: Callable[[], T]) -> T:
        """`compute()` run on rank 0 only (validation), its (picklable) result broadcast to every rank."""
        if not self.enabled:
            return compute()
        box = [compute() if self.is_main else None]
        dist.broadcast_object_list(box, src=0, device=self._comm_device())
        return box[0]  # type: ignore[return-value]

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sum over ranks (per-epoch loss totals for the progress line)."""
        if not self.enabled:
            return [float(v) for v in values]
        tensor = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(tensor)
        return [float(v) for v in tensor.tolist()]

    def _comm_device(self) -> torch.device:
        # flags and scores travel as CPU tensors, over gloo in both group kinds ("cpu:gloo,cuda:nccl" dispatches by
        # device), so CPU-trained models need no GPU per rank even on a GPU box
        return torch.device("cpu")


_current = Dist()


def current() -> Dist:
    """The group of this process (set by `process_group`); world 1 outside torchrun."""
    return _current


def env_dist(env: dict[str, str] | os._Environ[str] | None = None) -> Dist | None:
    """The Dist that torchrun's variables describe, or None when this process was not started by torchrun."""
    env = os.environ if env is None else env
    if "WORLD_SIZE" not in env or "RANK" not in env:
        return None
    try:
        rank, world, local = int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", env["RANK"]))
    except ValueError:
        raise DistributedError("RANK, WORLD_SIZE and LOCAL_RANK must be integers: start ranks with torchrun") from None
    if world < 1 or not 0 <= rank < world:
        raise DistributedError(f"RANK {rank} is outside WORLD_SIZE {world}: start ranks with torchrun")
    addr = env.get("MASTER_ADDR", "127.0.0.1")
    if not is_loopback(addr):
        raise DistributedError(f"MASTER_ADDR {addr!r} is not a loopback address: the appliance trains on one machine "
                               "only; run torchrun with --standalone")
    return Dist(rank, world, local)


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback IP (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def process_group(group: Dist | None = None, *, init_method: str | None = None) -> Iterator[Dist]:
    """Join the process group (`group` given, else torchrun's environment), make it `current()`, leave it at the end.

    A single process (world 1 or no torchrun) joins nothing. The collectives time out after TIMEOUT_S, so a rank
    that dies without the launcher noticing fails the others instead of hanging them.
    """
    global _current
    group = group or env_dist() or Dist()
    if not group.enabled:
        yield group
        return
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # loopback only
    os.environ.setdefault("NCCL_SOCKET_IFNAME", "lo")
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(group.local_rank % torch.cuda.device_count())
    backend = "cpu:gloo,cuda:nccl" if cuda else "gloo"
    dist.init_process_group(backend, init_method=init_method or "env://", rank=group.rank, world_size=group.world,
                            timeout=datetime.timedelta(seconds=TIMEOUT_S))
    group = dataclasses.replace(group, backend="gloo" if not cuda else "nccl")
    _current = group
    try:
        yield group
    finally:
        _current = Dist()
        # DDP wrappers left in reference cycles hold the group's gloo pairs: collect them while the group is alive,
        # not during interpreter shutdown (where their C++ threads were seen to abort a rank, see distributed_run)
        gc.collect()
        dist.destroy_process_group()


class Step(nn.Module):
    """A loss computation as a module's forward, so DDP (which hooks `forward`) can wrap it: `fn(*args)` over the
    registered `parts` (their parameters are what DDP synchronises)."""

    def __init__(self, fn: Callable[..., Any], **parts: nn.Module | None) -> None:
        super().__init__()
        self.fn = fn
        self.parts = nn.ModuleDict({k: v for k, v in parts.items() if isinstance(v, nn.Module)})

    def forward(self, *args: Any) -> Any:
        return self.fn(*args)
