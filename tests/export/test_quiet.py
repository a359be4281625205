"""export.quiet.quiet_quantizer: onnxruntime's quantizer advice (with its web address) is dropped while quantizing,
and every other warning still shows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from export.quiet import QUANTIZER_ADVICE, quiet_quantizer


def _tiny_model(path: Path) -> None:
    """A (1, 4) @ (4, 3) MatMul with a constant weight: the smallest graph dynamic quantization rewrites."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3) / 7, name="W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [weight])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_only_the_quantizer_advice_is_silenced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    quantization = pytest.importorskip("onnxruntime.quantization")
    _tiny_model(tmp_path / "fp32.onnx")
    caplog.set_level(logging.WARNING)

    def quantize(name: str) -> None:
        quantization.quantize_dynamic(str(tmp_path / "fp32.onnx"), str(tmp_path / name), per_channel=True,
                                      weight_type=quantization.QuantType.QInt8)

    quantize("loud.onnx")
    assert any(r.getMessage().startswith(QUANTIZER_ADVICE) for r in caplog.records)  # it is there without the filter
    caplog.clear()
    with quiet_quantizer():
        quantize("quiet.onnx")
        logging.warning("another warning")
    messages = [r.getMessage() for r in caplog.records]
    assert "another warning" in messages and not any(m.startswith(QUANTIZER_ADVICE) for m in messages)
    assert (tmp_path / "quiet.onnx").stat().st_size > 0
    caplog.clear()
    quantize("after.onnx")  # the filter is gone after the block
    assert any(r.getMessage().startswith(QUANTIZER_ADVICE) for r in caplog.records)
