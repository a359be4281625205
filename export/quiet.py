"""`quantize_int8()`: the one per-channel dynamic int8 quantization every export uses, run under `quiet_quantizer()`,
which silences the one log line onnxruntime's quantizer writes on every dynamic quantization ("Please
consider to run pre-processing before quantization. Refer to example: https://github.com/...") and nothing else.

The line is a root-logger `logging.warning` in onnxruntime/quantization/quantize.py (1.28.0). It recommends shape
inference pre-processing for static (calibrated) quantization; Tanaban quantizes dynamically, per channel, and checks
the result with a quality gate, so the advice does not apply, and an air-gapped reviewer should not be shown a web
address on every export. A logging.Filter on the root logger drops exactly that message while the block runs; every
other warning still shows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

QUANTIZER_ADVICE = "Please consider to run pre-processing before quantization"  # the message's fixed opening


class _DropQuantizerAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(QUANTIZER_ADVICE)


@contextmanager
def quiet_quantizer() -> Iterator[None]:
    """Run the block with onnxruntime's pre-processing advice (and its URL) filtered out of the root logger."""
    root, dropper = logging.getLogger(), _DropQuantizerAdvice()
    root.addFilter(dropper)
    try:
        yield
    finally:
        root.removeFilter(dropper)


def quantize_int8(fp32: Path, int8: Path, *, exclude: list[str] | tuple[str, ...] = ()) -> None:
    """Per-channel dynamic int8 of an ONNX file (DESIGN.md: per-tensor loses too much); `exclude` keeps nodes fp32.
    Every export goes through here, each then checking the result against its own quality gate."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quiet_quantizer():
        quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8,
                         nodes_to_exclude=list(exclude))
