"""The anonymizer's user-error base, kept apart from `appliance.errors.UserError` because anonymize/ imports nothing
from appliance/; the CLI catches both families.
"""

from __future__ import annotations


class AnonymizeUserError(Exception):
    """A failure of the anonymizer that the user can fix (bad policy, missing spaCy model); the message says how.

    Messages never quote the text being anonymized.
    """
