"""Payment methods: card schemes, wallets and bank-transfer services ("paid with Klarna", "my Visa was charged
twice", "Betaald met iDEAL via Bancontact") are brands every retail text names, not people or places.

A filter on findings, like `anonymize.recognizers.branches` and `organisations`: a PERSON, LOCATION or
STREET_ADDRESS finding whose words are all payment-method names (and the generic words around them: "Pay", "card",
"wallet") is dropped. The names are the card schemes of ISO/IEC 7812 issuer ranges in use (Visa, Mastercard, Amex,
JCB, UnionPay, Diners Club, Discover, RuPay, Hipercard, Maestro) and the widely used wallets and national
instant-payment brands of the cue languages' countries (Klarna, PayPal, iDEAL, Bancontact, Sofort, Giropay, BLIK,
Przelewy24, Swish, Vipps, MobilePay, TWINT, Pix, Venmo, Zelle, Interac, Paytm, PhonePe, GCash, Mercado Pago, Alipay,
WeChat Pay...). Names that are also given names or ordinary words in some language are left out ("Maya", "Elo",
"Mir", "Zip", "Affirm", "Cash"). Without it the learned detector and spaCy called most of them a PERSON ("Klarna",
"Giropay", "Venmo", "Amex") and "Google Pay" a street, masked for nothing (a battery of made-up payment sentences,
tests/anonymize/test_payment_brands.py; the development sets hold no payment brand, so no dev-set figure moves).
"""

from __future__ import annotations

import re

from anonymize.findings import Finding

PAYMENT_TYPES = ("PERSON", "LOCATION", "STREET_ADDRESS")
PAYMENT_BRANDS = frozenset((
    "visa", "mastercard", "maestro", "amex", "americanexpress", "jcb", "unionpay", "discover", "diners", "dinersclub",
    "rupay", "hipercard", "klarna", "paypal", "afterpay", "clearpay", "sezzle", "ideal", "bancontact", "sofort",
    "sofortüberweisung", "giropay", "blik", "przelewy24", "swish", "vipps", "mobilepay", "twint", "pix", "venmo",
    "zelle", "interac", "paytm", "phonepe", "gcash", "paymaya", "alipay", "wechat", "applepay", "googlepay",
    "samsungpay", "gpay", "payconiq", "satispay", "bizum", "multibanco", "mbway", "trustly", "paysafecard",
    "mercadopago", "oxxo", "boleto",
))  # not "Maya", "Elo", "Mir", "Zip": given names or ordinary words too
# Generic words that go with a brand in a payment method's name ("Apple Pay", "Mercado Pago", "Visa card").
_GENERIC = frozenset(("pay", "pago", "pagamento", "payment", "payments", "card", "cards", "karte", "carte", "tarjeta",
                      "carta", "kaart", "karta", "wallet", "express", "club", "apple", "google", "samsung", "mercado",
                      "amazon"))
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def is_payment_brand(text: str, finding: Finding) -> bool:
    """True when `finding` names a payment method, as the module docstring says."""
    if finding.entity_type not in PAYMENT_TYPES:
        return False
    words = [w.lower() for w in _WORD.findall(text[finding.start:finding.end])]
    joined = "".join(words)
    if not words:
        return False
    brands = [w for w in words if w in PAYMENT_BRANDS]
    return (joined in PAYMENT_BRANDS or bool(brands)) and all(w in PAYMENT_BRANDS or w in _GENERIC for w in words)
