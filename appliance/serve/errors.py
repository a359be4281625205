"""Errors of the serving runtime, apart from the modules that raise them so that every serve module can import
them without importing the service (no import cycle): a missing or refused bundle, and an unanswerable request.
"""

from __future__ import annotations

from appliance.errors import UserError


class ServeError(UserError, RuntimeError):
    """No usable bundle (missing, unsigned, tampered): the message says which and what to do."""


class RequestError(UserError, ValueError):
    """A request the service understands but cannot answer (unknown user or item): a 404 with this message."""
