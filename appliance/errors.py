"""The one base class for errors a user can fix (STYLE rule 12: one error base; no data in any error).

The CLI catches the `UserError` family and prints one `error:` line with the fix; every other exception is a bug and
gets a crash report (cli/failures.py). Each failure domain still defines its own subclass in the module that raises it.
"""

from __future__ import annotations


class UserError(Exception):
    """A failure the user can fix (bad config, missing artifact, wrong input file); the message names the fix.

    Messages name the file, line, key or command, never a value from the data (a customer id, a review, a query).
    Subclasses keep their builtin base second, e.g. `class IngestError(UserError, ValueError)`. A domain whose
    failure a script should tell apart sets its own `exit_code` (sysexits.h; docs/OPERATIONS.md lists them).
    """

    exit_code = 2  # the CLI's exit status for this error: usage-like, the message says what to change
