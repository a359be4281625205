"""Cross-request batching of live generative answers: an asyncio micro-batcher in front of `GenBundle.decode_many`.

Dynamic batching as in inference servers (NVIDIA Triton's dynamic batcher, TorchServe's batch_size/max_batch_delay):
live requests queue up; one task takes the first, then collects more until `gen_batch_max` are waiting or
`gen_batch_wait_ms` have passed, and decodes them in ONE beam search on a single worker thread, so the event loop
keeps answering cached and CF requests meanwhile. Each request gets its own future: a failure of the batch is
retried request by request, so an exception reaches only the request that caused it. Imports no torch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from appliance.serve.service import Answer, GenBundle, GenQuery


@dataclass
class _Pending:
    bundle: GenBundle  # the one current when the request arrived: a reload never mixes two bundles in one search
    query: GenQuery
    future: asyncio.Future[Answer]


class GenBatcher:
    """Collects live generative queries across concurrent requests; see the module docstring.

    `max_batch`: most queries per beam search (`ServeConfig.gen_batch_max`); `wait_ms`: longest wait for company
    after the first query arrives (`ServeConfig.gen_batch_wait_ms`). Counters `batches` and `queries` feed /metrics.
    """

    def __init__(self, max_batch: int, wait_ms: float) -> None:
        if max_batch < 1 or wait_ms < 0:
            raise ValueError(f"gen_batch_max must be >= 1 and gen_batch_wait_ms >= 0, got {max_batch}, {wait_ms}")
        self.max_batch, self.wait_s = max_batch, wait_ms / 1000.0
        self.batches = self.queries = 0
        self._executor = _decode_thread()
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def answer(self, bundle: GenBundle, query: GenQuery) -> Answer:
        """The live answer to `query` from `bundle`, decoded together with whatever else is queued."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._task is None or self._task.done():
            self._start(loop)  # started lazily: the app may be driven by several event loops (test clients)
        future: asyncio.Future[Answer] = loop.create_future()
        assert self._queue is not None
        await self._queue.put(_Pending(bundle, query, future))
        return await future

    async def stop(self) -> None:
        """Cancel the collecting task (queued requests are cancelled) and release the decode thread."""
        task, self._task = self._task, None
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = _decode_thread()  # threads start on first use: a restarted app can answer again

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._queue = loop, asyncio.Queue()
        self._task = loop.create_task(self._run(self._queue), name="tanaban-gen-batcher")

    async def _run(self, queue: asyncio.Queue[_Pending]) -> None:
        batch: list[_Pending] = []
        try:
            while True:
                batch = await self._collect(queue)
                await self._decode(batch)
                batch = []
        finally:
            for pending in batch + _drain(queue):
                if not pending.future.done():
                    pending.future.cancel()

    async def _collect(self, queue: asyncio.Queue[_Pending]) -> list[_Pending]:
        batch = [await queue.get()]
        deadline = time.monotonic() + self.wait_s
        while len(batch) < self.max_batch:
            if not queue.empty():
                batch.append(queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _decode(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        live = [p for p in batch if not p.future.done()]  # a client that went away cancelled its future
        for bundle in {id(p.bundle): p.bundle for p in live}.values():
            group = [p for p in live if p.bundle is bundle]
            self.batches, self.queries = self.batches + 1, self.queries + len(group)
            try:
                answers = await loop.run_in_executor(self._executor, bundle.decode_many, [p.query for p in group])
            except Exception:  # retried one by one, so each error reaches only its own request
                await self._decode_each(bundle, group)
                continue
            for pending, answer in zip(group, answers, strict=True):
                _resolve(pending, answer)

    async def _decode_each(self, bundle: GenBundle, group: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        for pending in group:
            try:
                (answer,) = await loop.run_in_executor(self._executor, bundle.decode_many, [pending.query])
            except Exception as exc:  # handed to the request's own future
                if not pending.future.done():
                    pending.future.set_exception(exc)
                continue
            _resolve(pending, answer)

    def metrics_text(self) -> str:
        """Prometheus lines: beam searches run and live queries they answered (queries / batches = mean batch)."""
        return ("# TYPE tanaban_gen_batches_total counter\n"
                f"tanaban_gen_batches_total {self.batches}\n"
                "# TYPE tanaban_gen_batched_queries_total counter\n"
                f"tanaban_gen_batched_queries_total {self.queries}\n")


def _decode_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="tanaban-gen")  # one beam search at a time


def _resolve(pending: _Pending, answer: Answer) -> None:
    if not pending.future.done():
        pending.future.set_result(answer)


def _drain(queue: asyncio.Queue[_Pending]) -> list[_Pending]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def batcher_lifespan(batcher: GenBatcher, inner: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
    """A FastAPI lifespan that runs `inner` (another lifespan, or none) and stops `batcher` on shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        try:
            if inner is None:
                yield
            else:
                async with inner(app):
                    yield
        finally:
            await batcher.stop()

    return lifespan
