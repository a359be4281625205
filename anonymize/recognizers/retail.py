"""Retail identifiers Presidio has no recognizer for: order numbers, gift cards, loyalty ids, and secrets.

Bare digit runs are ambiguous, so most shapes score below the threshold unless a context word ("order",
"gift card", "loyalty") is near; prefixed shapes (ORD-, LOY-) and well-known API-key formats stand on their own.
Order references in any letters-digits-dashes shape ("E55-8609657", "AB-12-345678") count right after "order",
"order no.", "ref" or "#", the cue every shop's order confirmation puts before them; two to four capitals and six to
ten digits ("BR-4480231", "KD4974650") count without one.
Secret shapes follow the public token formats (OpenAI, Stripe, AWS, GitHub, Slack, Google, JWT).
"""

from __future__ import annotations

import re

from anonymize.recognizers.base import Pattern, RegexRecognizer

ORDER_CONTEXT = ("order", "orders", "ordered", "purchase", "invoice", "receipt", "ref", "reference", "confirmation",
                 "tracking", "parcel", "delivery", "return", "refund")
# A reference of letters and digits in dash-separated groups with a run of 5+ digits somewhere: "E55-8609657"
_DASHED_REF = r"(?=[A-Z0-9-]*\d{5})[A-Z0-9]{1,6}(?:-[A-Z0-9]{1,12}){1,3}"
_ORDER_CUE = r"\b(?:order|ref|reference|invoice|confirmation)(?:\s*(?:no\.?|number|nr\.?|num\.?|id))?\s*[#:]?\s*"
GIFT_CONTEXT = ("gift card", "giftcard", "gift cards", "voucher", "gift code", "e-gift", "egift", "gift certificate",
                "redeem", "redemption code", "claim code")
LOYALTY_CONTEXT = ("loyalty", "rewards", "reward", "member", "membership", "club", "points", "clubcard",
                   "nectar", "card number", "account")


def order_recognizer() -> RegexRecognizer:
    return RegexRecognizer("order-number", "ORDER_NUMBER", [
        Pattern(r"\b(?:ORD|ORDER|SO|WEB|PO)[-#]?\d{2,4}[-]?\d{4,10}\b", 0.85, 0.95),  # ORD-2024-889123
        Pattern(r"\b\d{3}-\d{7}-\d{7}\b", 0.8, 0.95),  # marketplace style 3-7-7
        Pattern(r"#\s?(\d{5,12})\b", 0.45, 0.85, group=1),
        Pattern(rf"{_ORDER_CUE}({_DASHED_REF})(?![\w-])", 0.9, group=1),  # "order #E55-8609657"
        Pattern(rf"(?<![\w])#\s?({_DASHED_REF})(?![\w-])", 0.55, 0.85, group=1),  # "#E55-8609657"
        Pattern(r"(?<![\w-])(\d{6,12}|[A-Z]{1,3}\d{6,12})(?![\w-])", 0.1, 0.7, group=1),
        # two to four capitals and six to ten digits, with or without a hyphen ("BR-4480231", "FI-230412",
        # "KD4974650"): a shop's order, customer or loyalty reference in any language, with no cue needed (on the
        # development sets 580 such tokens were personal ids and 2 were not); below a typed cue rule's score
        Pattern(r"(?<![\w-])[A-Z]{2,4}-?\d{6,10}(?:-\d{1,4})?(?![\w-])", 0.6, 0.9, flags=0),
    ], context=ORDER_CONTEXT)


def gift_card_recognizer() -> RegexRecognizer:
    return RegexRecognizer("gift-card", "GIFT_CARD", [
        Pattern(r"(?<![\w-])(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{4}(?:-[A-Z0-9]{4}){2,4}(?![\w-])", 0.55, 0.95,
                flags=0),
        Pattern(r"(?<![\d-])\d{4}(?:[ -]?\d{4}){2,4}(?:[ -]?\d{1,3})?(?![\d-])", 0.1, 0.96),
        Pattern(r"(?<![\w-])(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{10,20}(?![\w-])", 0.1, 0.85, flags=0),
    ], context=GIFT_CONTEXT)


def loyalty_recognizer() -> RegexRecognizer:
    return RegexRecognizer("loyalty-id", "LOYALTY_ID", [
        Pattern(r"\b(?:LOY|MBR|RWD|LC|CLUB)[- ]?\d{6,12}\b", 0.85, 0.95),
        Pattern(r"(?<![\w-])(\d{8,16}|\d{4}(?: \d{4}){1,3})(?![\w-])", 0.1, 0.8),
    ], context=LOYALTY_CONTEXT)


def secret_recognizer() -> RegexRecognizer:
    keyword = r"(?:password|passwd|pwd|passcode|pass code|pin|login|api[ _-]?key|secret|token)"
    return RegexRecognizer("secret", "SECRET", [
        Pattern(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}", 0.95, flags=0),  # OpenAI
        Pattern(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}", 0.95, flags=0),  # Stripe
        Pattern(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0.95, flags=0),  # AWS access key id
        Pattern(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b", 0.95, flags=0),  # GitHub
        Pattern(r"\bxox[abprs]-[A-Za-z0-9-]{10,}", 0.95, flags=0),  # Slack
        Pattern(r"\bAIza[0-9A-Za-z_-]{35}\b", 0.95, flags=0),  # Google API key
        Pattern(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0.9, flags=0),  # JWT
        Pattern(keyword + r"\s*(?:is|was|:|=|->)\s*[\"']?([^\s\"',;]{4,})", 0.9, group=1, flags=re.IGNORECASE),
        Pattern(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{32,}\b", 0.6, flags=0),
    ])
