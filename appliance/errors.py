"""The one base class for errors a user can fix (STYLE rule 12: one error base; no data in any error).

The CLI catches the `UserError` family and prints one `error:` line with the fix; every other exception is a bug and
keeps its traceback. Each failure domain still defines its own subclass in the module that raises it.
"""

from __future__ import annotations


class UserError(Exception):
    """A failure the user can fix (bad config, missing artifact, wrong input file); the message names the fix.

    Messages name the file, line, key or command, never a value from the data (a customer id, a review, a query).
    Subclasses keep their builtin base second, e.g. `class IngestError(UserError, ValueError)`.
    """
