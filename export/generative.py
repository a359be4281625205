"""ONNX export of the generative recommender's decoder with KV cache, int8 quantization and the export gates
(export issue 7; decoding as in TIGER, Rajput et al., NeurIPS 2023; int8 per-channel dynamic quantization as
measured in DESIGN.md, with the plain export quantized, not an optimised graph).

The exported graph is a wrapper around the transformers causal LM: inputs `input_ids`, `attention_mask` (over past
and new tokens), `position_ids` and the flattened past keys/values `past.{i}.key|value`; outputs the
log-probabilities of the last position and `present.{i}.key|value`. The causal mask is built in the wrapper as a
4D additive mask from plain tensor ops (the transformers mask helpers use vmap, which the TorchScript exporter
cannot trace), with eager attention (SDPA shortcuts freeze one padding pattern into the trace). A model with
gen.history_layout "items" keeps the same inputs: an entry -(i + 1) of `input_ids` is item i, embedded in the graph
as the sum of its code-token embeddings (appliance.generative.train.embed_inputs, gathers only; the item table is a
graph constant), and generative.json says the layout so the serving decoder writes its prompts that way.

Gates (written into the returned dict and the bundle's metrics.json):
- fp32: max |log-prob diff| ONNX vs torch on sample prompts, at the prompt step and one cached step;
- fp32: the same top-K items from the constrained beam search, torch (appliance.generative.model.generate) vs ONNX
  (identical lists, or lists that differ only by swapping items whose scores tie: rank-wise scores within 1e-3);
- int8: relative NDCG@10 drop vs fp32 on validation users (<= 1%) and 100% valid codes (valid, unseen, unique);
  if full int8 fails, int8 again with the embedding and lm_head nodes kept fp32; if that fails too, fp32 ships.
"""

from __future__ import annotations

import copy
import json
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from appliance.data.splits import Split
from appliance.errors import UserError
from appliance.serve.decoder import CODES_FILE, DECODER_FILE, META_FILE, TOKENIZER_FILE, GenerativeDecoder
from export.quiet import quantize_int8

FP32_MAX_ABS = 1e-3  # fp32 ONNX vs torch log-probs: float reordering gives ~1e-6; larger means a wrong graph
MAX_RELATIVE_NDCG_DROP = 0.01  # the gate: int8 may lose at most 1% NDCG@10 against fp32
GATE_USERS = 512  # validation users decoded per precision: fewer make NDCG@10 too noisy for a 1% gate
GATE_K = 10  # list length the top-K parity and NDCG gates compare (the NDCG@10)
KEEP_FP32 = ("embed_tokens", "lm_head")  # nodes left fp32 in the second int8 attempt (token tables are sensitive)


class GenExportError(UserError, RuntimeError):
    """The generative model cannot be exported, or its ONNX fp32 decoder fails the parity gate."""


def export_generative(model: Any, out_dir: Path, sample_histories: Sequence[Sequence[int]] | None = None, *,
                      split: Split | None = None, quantize: bool = True, gate_users: int = GATE_USERS,
                      signing_key: Any = None, opset: int = 17) -> dict[str, Any]:
    """Write decoder.onnx (chosen precision), tokenizer.json, codes.npy and generative.json into `out_dir`.

    `sample_histories` (item-index sequences) feed the parity gates; by default the validation inputs of the
    split (`split`, else the one the model is bound to). The int8 NDCG gate needs that split; without one the
    bundle ships fp32. With `signing_key` the directory is signed as a bundle (export/bundle.py). Returns the gates.
    """
    if model.lm is None or model.tokenizer is None:
        raise GenExportError("the generative model is not fitted or loaded: train or load it before exporting")
    split = split if split is not None else model.split
    users = _gate_users(split, gate_users) if split is not None else np.zeros(0, np.int64)
    if sample_histories is None:
        if split is None:
            raise GenExportError("no sample histories and no split: pass sample_histories or bind a split")
        sample_histories = [split.sequences("valid")[u] for u in users]
    histories = [np.asarray(h, np.int64) for h in sample_histories if len(h)]
    if not histories:
        raise GenExportError("the sample histories are all empty: the parity gates need at least one item")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / ".work"
    work.mkdir(exist_ok=True)
    try:
        gate = _export_and_gate(model, out_dir, work, histories, split, users, quantize, opset)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _write_json(out_dir / "metrics.json", {"gate": gate})
    if signing_key is not None:
        from export.bundle import sign_bundle

        sign_bundle(out_dir, signing_key, {"kind": "generative", "decoder": gate["chosen"], "gate": gate})
    return gate


def _export_and_gate(model: Any, out_dir: Path, work: Path, histories: list[np.ndarray], split: Split | None,
                     users: np.ndarray, quantize: bool, opset: int) -> dict[str, Any]:
    fp32 = work / "decoder.fp32.onnx"
    layers = _torch_export(model.lm, fp32, opset, _item_tokens(model))
    _write_support(model, out_dir, layers)
    gate: dict[str, Any] = {"fp32_max_abs": _logprob_diff(model, fp32, out_dir, histories)}
    if gate["fp32_max_abs"] > FP32_MAX_ABS:
        raise GenExportError(f"ONNX fp32 decoder differs from torch by {gate['fp32_max_abs']:.2e} log-prob "
                             f"(> {FP32_MAX_ABS}); not exported")
    gate.update(_topk_parity(model, GenerativeDecoder(out_dir, model_file=fp32), histories))
    if gate["fp32_topk_score_max_abs"] > FP32_MAX_ABS:
        raise GenExportError(f"the ONNX beam search returns different top-{GATE_K} lists than torch for "
                             f"{1 - gate['fp32_topk_identical_share']:.1%} of the sample users, and not only by "
                             "swapping tied items; not exported")
    gate.update(chosen="fp32", reason="quantization not requested", int8_excluded_nodes=[])
    if quantize:
        gate.update(_int8_gate(out_dir, work, fp32, split, users))
    chosen = work / ("decoder.int8.onnx" if gate["chosen"] == "int8" else "decoder.fp32.onnx")
    shutil.move(str(chosen), out_dir / DECODER_FILE)
    gate["size_bytes"] = (out_dir / DECODER_FILE).stat().st_size
    return gate


def _topk_parity(model: Any, decoder: GenerativeDecoder, histories: list[np.ndarray]) -> dict[str, float]:
    """Share of identical top-K lists, torch vs ONNX, and the largest rank-wise score difference.

    Lists may differ only by swapping items whose scores tie within float error (one sample user in a few hundred
    does on a trained model); then the rank-wise scores still agree, which is what the gate checks.
    """
    torch_items, torch_scores = model.recommend_for(histories, histories, GATE_K)
    items, scores = decoder.recommend_scored(histories, GATE_K)
    same_pad = np.array_equal(np.isfinite(torch_scores), np.isfinite(scores))
    finite = np.isfinite(scores) & np.isfinite(torch_scores)
    diff = float(np.abs(scores - torch_scores)[finite].max(initial=0.0)) if same_pad else float("inf")
    return {"fp32_topk_identical_share": float(np.mean((torch_items == items).all(axis=1))),
            "fp32_topk_score_max_abs": diff}


def _gate_users(split: Split, n: int) -> np.ndarray:
    """Up to `n` users with a validation item and a training history, spread evenly over the user range."""
    rows, sequences = split.eval_users("valid"), split.sequences("valid")
    has = rows[np.array([len(sequences[u]) > 0 for u in rows], dtype=bool)]
    if len(has) <= n:
        return has
    return has[np.linspace(0, len(has) - 1, n).round().astype(np.int64)]


def _item_tokens(model: Any) -> Any:
    """The (n_items, L) code-token table of a history_layout "items" model, else None."""
    if not getattr(model, "item_positions", False):
        return None
    from appliance.generative.train import item_token_table

    return item_token_table(model.tokenizer, model.codes)


def _torch_export(lm: Any, path: Path, opset: int, item_tokens: Any = None) -> int:
    """Export the decoder-with-past wrapper; returns the number of layers."""
    import torch

    lm = copy.deepcopy(lm).float().cpu().eval()
    lm.set_attn_implementation("eager")
    cfg = lm.config
    n_layers, kv_heads = cfg.num_hidden_layers, cfg.num_key_value_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    batch, new, old = 2, 3, 4  # trace shapes: any sizes > 1 so no axis gets specialised to a constant
    args = (torch.randint(0, cfg.vocab_size, (batch, new)), torch.ones(batch, old + new, dtype=torch.long),
            torch.arange(old, old + new)[None].repeat(batch, 1),
            *[torch.randn(batch, kv_heads, old, head_dim) for _ in range(2 * n_layers)])
    past = [f"past.{i}.{kv}" for i in range(n_layers) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(n_layers) for kv in ("key", "value")]
    axes: dict[str, dict[int, str]] = {"input_ids": {0: "rows", 1: "new"}, "attention_mask": {0: "rows", 1: "all"},
                                       "position_ids": {0: "rows", 1: "new"}, "logprobs": {0: "rows"}}
    axes.update({name: {0: "rows", 2: "old"} for name in past})
    axes.update({name: {0: "rows", 2: "all"} for name in present})
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript exporter deprecation and tracer notices
        torch.onnx.export(_wrapper(lm, n_layers, torch, item_tokens), args, str(path),
                          input_names=["input_ids", "attention_mask", "position_ids", *past],
                          output_names=["logprobs", *present], dynamic_axes=axes, opset_version=opset, dynamo=False)
    return n_layers


def _wrapper(lm: Any, n_layers: int, torch: Any, item_tokens: Any = None) -> Any:
    from transformers.cache_utils import DynamicCache

    from appliance.generative.train import embed_inputs

    class _DecoderWithPast(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lm = lm

        def forward(self, input_ids: Any, attention_mask: Any, position_ids: Any, *past: Any) -> Any:
            new, total = input_ids.shape[1], attention_mask.shape[1]
            query = torch.arange(total - new, total)[:, None]  # absolute position of each new token
            allowed = (torch.arange(total)[None, :] <= query)[None, None] & attention_mask[:, None, None, :].bool()
            mask = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min)
            cache = DynamicCache()
            for i in range(n_layers):
                cache.update(past[2 * i], past[2 * i + 1], i)
            tokens = ({"input_ids": input_ids} if item_tokens is None else
                      {"inputs_embeds": embed_inputs(self.lm, input_ids, item_tokens)})
            out = self.lm(**tokens, attention_mask=mask, position_ids=position_ids,
                          past_key_values=cache, use_cache=True, logits_to_keep=1)
            present = [t for layer in out.past_key_values.layers[:n_layers] for t in (layer.keys, layer.values)]
            return (torch.log_softmax(out.logits[:, -1, :], dim=-1), *present)

    return _DecoderWithPast()


def _write_support(model: Any, out_dir: Path, layers: int) -> None:
    cfg = model.lm.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    (out_dir / TOKENIZER_FILE).write_text(model.tokenizer.to_str(), encoding="utf-8")
    np.save(out_dir / CODES_FILE, np.asarray(model.codes, np.int64), allow_pickle=False)
    _write_json(out_dir / META_FILE, {
        "level_sizes": [int(s) for s in model.trie.level_sizes], "history_len": int(model.cfg.history_len),
        "beam": int(model.cfg.beam), "layers": layers, "kv_heads": int(cfg.num_key_value_heads),
        "head_dim": int(head_dim), "model_type": cfg.model_type, "vocab_size": int(cfg.vocab_size),
        "history_layout": "items" if getattr(model, "item_positions", False) else "tokens"})


def _logprob_diff(model: Any, onnx_path: Path, out_dir: Path, histories: list[np.ndarray]) -> float:
    """Max |log-prob| difference, torch vs ONNX, at the prompt step and one cached step (first code token)."""
    import torch

    from appliance.generative.tasks import seq_prompt

    decoder = GenerativeDecoder(out_dir, model_file=onnx_path)
    items_layout = bool(getattr(model, "item_positions", False))
    prompts = [seq_prompt(model.tokenizer, model.codes, h, model.cfg.history_len, items_layout) for h in histories]
    width, pad = max(len(p) for p in prompts), decoder.tokenizer.token_id("[PAD]")
    ids = np.array([[pad] * (width - len(p)) + p for p in prompts], np.int64)
    mask = np.array([[0] * (width - len(p)) + [1] * len(p) for p in prompts], np.int64)
    pos = np.maximum(mask.cumsum(1) - 1, 0)
    step = np.full((len(prompts), 1), int(model.tokenizer.code_offsets[0]), np.int64)
    mask2 = np.concatenate([mask, np.ones_like(step)], 1)
    empty = np.zeros((len(prompts), decoder.kv_shape[0], 0, decoder.kv_shape[1]), np.float32)
    feed = {"input_ids": ids, "attention_mask": mask, "position_ids": pos, **{n: empty for n in decoder.past_names}}
    onnx0, *present = decoder.session.run(None, feed)
    feed = {"input_ids": step, "attention_mask": mask2, "position_ids": pos[:, -1:] + 1,
            **dict(zip(decoder.past_names, present, strict=True))}
    onnx1 = decoder.session.run(None, feed)[0]
    lm = model.lm.eval()
    with torch.inference_mode():
        table = _item_tokens(model)
        if table is None:
            first = {"input_ids": torch.from_numpy(ids)}
        else:
            from appliance.generative.train import embed_inputs

            first = {"inputs_embeds": embed_inputs(lm, torch.from_numpy(ids), table)}
        t0 = lm(**first, attention_mask=torch.from_numpy(mask),
                position_ids=torch.from_numpy(pos), use_cache=True)
        t1 = lm(input_ids=torch.from_numpy(step), attention_mask=torch.from_numpy(mask2),
                position_ids=torch.from_numpy(pos[:, -1:] + 1), past_key_values=t0.past_key_values, use_cache=True)
        ref0, ref1 = (torch.log_softmax(t.logits[:, -1].float(), -1).numpy() for t in (t0, t1))
    return float(max(np.abs(onnx0 - ref0).max(), np.abs(onnx1 - ref1).max()))


def _int8_gate(out_dir: Path, work: Path, fp32: Path, split: Split | None, users: np.ndarray) -> dict[str, Any]:
    """Quantize; full int8 first, then int8 with token tables fp32; the first to pass both gates is chosen."""
    if split is None or len(users) == 0:
        return {"reason": "no validation users to gate int8 against: fp32 ships"}
    histories = [split.sequences("valid")[u] for u in users]
    known = split.history("valid")
    banned = [known.indices[known.indptr[u]:known.indptr[u + 1]] for u in users]
    heldout = [split.valid.indices[split.valid.indptr[u]:split.valid.indptr[u + 1]] for u in users]
    base_items = GenerativeDecoder(out_dir, model_file=fp32).recommend(histories, GATE_K, banned)
    base = _ndcg10(base_items, heldout)
    result: dict[str, Any] = {"ndcg10_fp32": base, "gate_users": len(users)}
    int8 = work / "decoder.int8.onnx"
    for exclude in ([], _token_table_nodes(fp32)):
        quantize_int8(fp32, int8, exclude=exclude)
        items = GenerativeDecoder(out_dir, model_file=int8).recommend(histories, GATE_K, banned)
        score, valid = _ndcg10(items, heldout), _valid_share(items, banned, len(split.item_ids))
        drop = (base - score) / base if base > 0 else 0.0
        ok = base > 0 and drop <= MAX_RELATIVE_NDCG_DROP and valid == 1.0
        result.update(ndcg10_int8=score, relative_drop=drop, int8_valid_share=valid, int8_excluded_nodes=exclude,
                      int8_overlap10=_overlap(base_items, items), chosen="int8" if ok else "fp32",
                      reason=f"int8{' (token tables fp32)' if exclude else ''} changes NDCG@10 by {-drop:+.2%} "
                             f"against fp32 (at most {MAX_RELATIVE_NDCG_DROP:.0%} loss allowed), valid codes "
                             f"{valid:.1%} (100% required)" + ("" if base > 0 else
                                                                "; fp32 NDCG@10 is 0 on the gate users, so the "
                                                                "drop cannot be judged: fp32 ships"))
        result.setdefault("int8_attempts", []).append(
            {"excluded_nodes": len(exclude), "ndcg10": score, "relative_drop": drop, "valid_share": valid})
        if ok or base == 0:
            break
    return result


def _token_table_nodes(path: Path) -> list[str]:
    """Names of the nodes that read the embedding table or compute the lm_head logits."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [node.name for node in graph.node if any(key in node.name for key in KEEP_FP32)]


def _ndcg10(items: np.ndarray, heldout: Sequence[np.ndarray]) -> float:
    """Mean NDCG@10 of ranked item lists (-1 = no item) against each user's held-out items."""
    discounts = 1.0 / np.log2(np.arange(2, GATE_K + 2))
    total = 0.0
    for row, truth in zip(items[:, :GATE_K], heldout, strict=True):
        ideal = discounts[:min(len(truth), GATE_K)].sum()
        total += discounts[np.isin(row, truth) & (row >= 0)].sum() / ideal if ideal > 0 else 0.0
    return float(total / max(len(heldout), 1))


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of the first list's items that the second list also holds, per user."""
    shares = [len(np.intersect1d(x[x >= 0], y[y >= 0])) / max(int((x >= 0).sum()), 1) for x, y in zip(a, b,
                                                                                                    strict=True)]
    return float(np.mean(shares)) if shares else 1.0


def _valid_share(items: np.ndarray, banned: Sequence[np.ndarray], n_items: int) -> float:
    """Share of returned items (not -1 padding) that are real items, not banned, and not repeated in the row."""
    good = returned = 0
    for row, ban in zip(items, banned, strict=True):
        row = row[row >= 0]
        returned += len(row)
        good += int(((row < n_items) & ~np.isin(row, ban)).sum()) - (len(row) - len(np.unique(row)))
    return good / returned if returned else 1.0


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8")
