"""`tanaban demo` and what only the demo needs: the deterministic synthetic retail sample and a loopback
stand-in for an external LLM. The product never imports this package.
"""
