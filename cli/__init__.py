"""The `tanaban` command line: one thin typer file per command group over library functions.

The CLI is a process entry point, so it forces the offline switches here, before any command module can import
onnxruntime, transformers or tldextract (see appliance/offline.py).
"""

from appliance.offline import apply_offline_env

apply_offline_env()
