"""`tanaban demo` and what only the demo needs: the deterministic synthetic retail sample and a loopback
stand-in for an external LLM. Only the `demo` and `sample` commands import it; no library module does.
"""
