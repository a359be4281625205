"""ONNX export, int8 quantization, parity and quality gates, signed model bundles."""
