"""Stage 6, the torch-free serving runtime (what the `serve` extra installs): verified bundles, ONNX encoder
and decoder, text search, batching, API keys, the HTTP app and its server processes.
"""
