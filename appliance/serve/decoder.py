"""Torch-free generative decoding: the ONNX decoder-with-past of a generative bundle (export/generative.py) driven
by a numpy beam search constrained to the trie of valid item codes (TIGER, Rajput et al., NeurIPS 2023; the
per-step beam choice is `appliance.generative.trie.beam_step`, shared with the torch decoder in
appliance/generative/model.py).

DESIGN.md's measured fact: a small numpy beam search over an ONNX decoder with KV cache is 5-10x faster than
optimum's generate and needs no torch. Decoding is batched over users: step 0 runs the left-padded prompts once;
each later step feeds one code token per beam and the KV cache reordered by each beam's parent. A returned item is
always a valid code and never one of the user's history or excluded items. Imports onnxruntime, tokenizers and
numpy only (tests/export/test_generative_export.py checks it in a fresh interpreter).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from appliance.errors import UserError
from appliance.generative.tasks import seq_prompt
from appliance.generative.tokenizer import PAD, GenTokenizer
from appliance.generative.trie import CodeTrie, beam_step, build_exclusions, finish, initial_state
from appliance.offline import apply_offline_env

DECODER_FILE = "decoder.onnx"
META_FILE = "generative.json"
TOKENIZER_FILE = "tokenizer.json"
CODES_FILE = "codes.npy"


class GenServeError(UserError, RuntimeError):
    """A generative bundle is missing, unsigned or malformed, or a request names items it does not know."""


class GenerativeDecoder:
    """Recommends item indices (rows of the bundle's codes) for explicit histories; see the module docstring.

    `public_keys`: when given, the bundle's signature and file hashes are verified first (export/bundle.py).
    `model_file`: an ONNX file to use instead of the bundle's decoder (the export gates compare fp32 and int8).
    """

    def __init__(self, bundle_dir: Path, *, public_keys: Sequence[Any] | None = None, model_file: Path | None = None,
                 threads: int = 1) -> None:
        apply_offline_env()
        import onnxruntime as ort

        bundle_dir = Path(bundle_dir)
        self.manifest: Any = None  # the verified manifest (export.bundle.Manifest) when public_keys are given
        if public_keys is not None:
            from export.bundle import verify_bundle

            self.manifest = verify_bundle(bundle_dir, public_keys)
            kind = self.manifest.data.get("meta", {}).get("kind")
            if kind != "generative":
                raise GenServeError(f"bundle {bundle_dir} is not a generative bundle (kind {kind})")
        try:
            self.meta: dict[str, Any] = json.loads((bundle_dir / META_FILE).read_text(encoding="utf-8"))
            text = (bundle_dir / TOKENIZER_FILE).read_text(encoding="utf-8")
            codes = np.load(bundle_dir / CODES_FILE, allow_pickle=False)
        except FileNotFoundError as exc:
            raise GenServeError(f"{bundle_dir} is not a generative bundle: {Path(exc.filename).name} is missing; "
                                "export it with export_generative()") from None
        sizes = tuple(int(s) for s in self.meta["level_sizes"])
        self.tokenizer = GenTokenizer.from_str(text, sizes)
        self.trie = CodeTrie(codes, sizes)
        self.history_len = int(self.meta["history_len"])
        self.item_positions = self.meta.get("history_layout", "tokens") == "items"  # one prompt entry per item
        self.beam = int(self.meta["beam"])
        self.kv_shape = (int(self.meta["kv_heads"]), int(self.meta["head_dim"]))
        self.past_names = [f"past.{i}.{kv}" for i in range(int(self.meta["layers"])) for kv in ("key", "value")]
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # one request per thread; servers parallelise over requests
        path = model_file or bundle_dir / DECODER_FILE
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @property
    def n_items(self) -> int:
        return self.trie.n_items

    def recommend(self, histories: Sequence[Sequence[int]], k: int,
                  exclude: Sequence[Sequence[int]] | None = None, batch_users: int = 64) -> np.ndarray:
        """(len(histories), k) item indices, best first, -1 where fewer than k items are allowed.

        Never returns an item of `histories[b]` or `exclude[b]` (for instance items bought since the history).
        """
        return self.recommend_scored(histories, k, exclude, batch_users)[0]

    def recommend_scored(self, histories: Sequence[Sequence[int]], k: int,
                         exclude: Sequence[Sequence[int]] | None = None,
                         batch_users: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """As `recommend`, plus the beams' log-probabilities (-inf where padded)."""
        if k < 1:
            raise GenServeError(f"k must be at least 1, got {k}")
        if exclude is not None and len(exclude) != len(histories):
            raise GenServeError(f"exclude has {len(exclude)} rows but there are {len(histories)} histories")
        seqs = [self._items(h, "history") for h in histories]
        banned = [np.union1d(s, self._items(exclude[b], "exclude") if exclude is not None else s)
                  for b, s in enumerate(seqs)]
        items, scores = [np.zeros((0, k), np.int64)], [np.zeros((0, k), np.float32)]
        for start in range(0, len(seqs), batch_users):
            stop = start + batch_users
            prompts = [seq_prompt(self.tokenizer, self.trie.codes, s, self.history_len, self.item_positions)
                       for s in seqs[start:stop]]
            got = self.decode(prompts, banned[start:stop], k, max(k, self.beam))
            items.append(got[0])
            scores.append(got[1])
        return np.concatenate(items), np.concatenate(scores)

    def _items(self, values: Sequence[int], what: str) -> np.ndarray:
        arr = np.asarray(values, np.int64).reshape(-1)
        bad = arr[(arr < 0) | (arr >= self.n_items)]
        if len(bad):
            raise GenServeError(f"{what} names item index {int(bad[0])}, but the bundle has items "
                                f"0..{self.n_items - 1}")
        return arr

    def decode(self, prompts: list[list[int]], histories: list[np.ndarray], k: int,
               beam: int) -> tuple[np.ndarray, np.ndarray]:
        """Trie-constrained beam search over token-id prompts: (B, k) item indices and scores (numpy twin of
        appliance.generative.model.generate)."""
        n, width = len(prompts), max(len(p) for p in prompts)  # batch size, prompt length after left padding
        ids = np.full((n, width), self.tokenizer.token_id(PAD), np.int64)
        mask = np.zeros((n, width), np.int64)
        for b, prompt in enumerate(prompts):
            ids[b, width - len(prompt):] = prompt
            mask[b, width - len(prompt):] = 1
        positions = np.maximum(mask.cumsum(1) - 1, 0)
        past = [np.zeros((n, self.kv_shape[0], 0, self.kv_shape[1]), np.float32) for _ in self.past_names]  # empty
        exclusions = build_exclusions(self.trie, histories)
        offsets = self.tokenizer.code_offsets
        state = initial_state(n)
        for level in range(self.trie.depth):
            feed = {"input_ids": ids, "attention_mask": mask, "position_ids": positions, **dict(zip(
                self.past_names, past, strict=True))}
            logprobs, *present = self.session.run(None, feed)  # (rows, V), then (rows, kv_heads, T, head_dim) each
            lo = int(offsets[level])
            state = beam_step(self.trie, state, logprobs[:, lo: lo + self.trie.level_sizes[level]], beam, exclusions)
            if level + 1 == self.trie.depth:
                break
            parents = state.parents
            past = [p[parents] for p in present]
            ids = (offsets[level] + state.values)[:, None]
            mask = np.concatenate([mask[parents], np.ones((len(parents), 1), np.int64)], axis=1)
            positions = positions[parents][:, -1:] + 1
        return finish(self.trie, state, k)
