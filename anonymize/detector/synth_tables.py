"""Locale table and word lists of the learned PII detector's synthetic corpus (split out of `synth`): Faker locales
with weight, phone code and locality order, name customs (family first, particles, titles), street types, and the
unlabelled retail vocabulary. Data only; `synth_slots` draws from it."""

from __future__ import annotations

from anonymize.detector import synth_world

# locale -> (weight, phone country code, locality order). Order codes: "PC CITY", "CITY PC", "CITY, ST PC",
# "CITY\nPC" (UK), "PC CITY (ST)" (Italy), "PC CITY - ST" (Brazil), "CITY - PC" (India).
LOCALES: dict[str, tuple[float, str, str]] = {
    "en_US": (3.0, "1", "CITY, ST PC"), "en_GB": (3.0, "44", "CITY\nPC"), "en_IE": (1.5, "353", "CITY PC"),
    "en_AU": (1.5, "61", "CITY ST PC"), "en_IN": (1.5, "91", "CITY - PC"), "en_CA": (1.5, "1", "CITY, ST PC"),
    "en_NZ": (1.0, "64", "CITY PC"), "de_DE": (2.0, "49", "PC CITY"), "de_AT": (1.0, "43", "PC CITY"),
    "de_CH": (1.0, "41", "PC CITY"), "fr_FR": (2.0, "33", "PC CITY"), "fr_CH": (0.7, "41", "PC CITY"),
    "it_IT": (1.5, "39", "PC CITY (ST)"), "es_ES": (1.5, "34", "PC CITY"), "es_MX": (1.0, "52", "CITY, ST PC"),
    "pt_PT": (1.0, "351", "PC CITY"), "pt_BR": (1.0, "55", "PC CITY - ST"), "nl_NL": (1.5, "31", "PC CITY"),
    "nl_BE": (0.8, "32", "PC CITY"), "pl_PL": (1.5, "48", "PC CITY"), "cs_CZ": (1.2, "420", "PC CITY"),
    "sk_SK": (0.7, "421", "PC CITY"), "sv_SE": (1.0, "46", "PC CITY"), "da_DK": (1.0, "45", "PC CITY"),
    "no_NO": (1.0, "47", "PC CITY"), "fi_FI": (1.0, "358", "PC CITY"), "tr_TR": (0.8, "90", "PC CITY"),
    "id_ID": (0.8, "62", "CITY, ST PC"), "vi_VN": (0.6, "84", "CITY"), "en_PH": (0.8, "63", "CITY PC"),
    "ro_RO": (1.0, "40", "PC CITY"), "hu_HU": (1.0, "36", "PC CITY"), "hr_HR": (0.6, "385", "PC CITY"),
    "sl_SI": (0.5, "386", "PC CITY"),
    # v4: non-Latin scripts and more of the Americas (names, places and addresses of customers abroad)
    "ko_KR": (0.5, "82", "CITY PC"), "ja_JP": (0.5, "81", "PC CITY"), "zh_CN": (0.4, "86", "CITY PC"),
    "zh_TW": (0.3, "886", "CITY PC"), "ru_RU": (0.6, "7", "PC CITY"), "uk_UA": (0.5, "380", "PC CITY"),
    "el_GR": (0.5, "30", "PC CITY"), "he_IL": (0.3, "972", "CITY PC"), "th_TH": (0.3, "66", "CITY PC"),
    "ka_GE": (0.2, "995", "PC CITY"), "hy_AM": (0.2, "374", "PC CITY"), "es_AR": (0.5, "54", "PC CITY"),
    "es_CO": (0.5, "57", "CITY"), "es_CL": (0.4, "56", "PC CITY"), "fr_CA": (0.5, "1", "CITY, ST PC"),
}
LOCALES.update(synth_world.NEW_LOCALES)  # v5: Arabic, East/West/South African locales (cities from synth_world)
# v4: locales used only for names (their Faker addresses are English placeholders); any text may carry a name from
# any locale (a Korean customer writing to a German shop), see SlotContext.names
NAME_ONLY_LOCALES = ("bg_BG", "et_EE", "lt_LT", "lv_LV", "is_IS", "hi_IN", "az_AZ", "tw_GH")
FOREIGN_NAME_SHARE = 0.15
FAMILY_FIRST = {"hu_HU", "vi_VN", "ko_KR", "ja_JP", "zh_CN", "zh_TW"}  # locales that write the family name first
NO_SPACE_NAMES = {"zh_CN": 1.0, "zh_TW": 1.0, "ko_KR": 0.7, "ja_JP": 0.3}  # share of names written without a space
PARTICLES = {
    "nl_NL": ("van", "van der", "van den", "de", "ter", "van 't"), "nl_BE": ("van", "de", "van den", "Vande"),
    "de_DE": ("von", "von der", "zu", "vom"), "de_AT": ("von",), "de_CH": ("von",), "fr_FR": ("de", "du", "de la"),
    "fr_CH": ("de",), "it_IT": ("di", "de", "del", "della", "d'"), "es_ES": ("de", "del", "de la", "de los"),
    "es_MX": ("de", "de la", "del"), "pt_PT": ("da", "dos", "de"), "pt_BR": ("da", "dos", "de"),
    "en_IE": ("O'", "Mac", "Mc"), "en_GB": ("Mac", "O'", "De"), "en_US": ("Mc", "O'", "Van", "De", "La"),
}
TITLES = ("Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Miss", "Dr", "Dr.", "Prof.", "Herr", "Frau", "M.", "Mme",
          "Sr.", "Sra.", "Pan", "Pani", "Dhr.", "Mevr.", "Sig.", "Sig.ra", "Mx")
# everyday street types per language, as (type, format): Faker's own lists favour rare ones
COMMON_STREETS = {
    "es": tuple((k, f) for k in ("Calle", "Avenida", "Plaza", "Paseo", "Calle de", "Camino")
                for f in ("{kind} {name} {n}", "{kind} {name}, {n}", "{kind} {name} nº {n}")),
    "it": tuple((k, f) for k in ("Via", "Viale", "Piazza", "Corso", "Via dei", "Largo")
                for f in ("{kind} {name} {n}", "{kind} {name}, {n}")),
    "pt": tuple((k, f) for k in ("Rua", "Avenida", "Travessa", "Praça", "Rua Dr.", "Largo")
                for f in ("{kind} {name} {n}", "{kind} {name}, {n}", "{kind} {name}, nº {n}")),
    "fr": tuple((k, f) for k in ("rue", "avenue", "boulevard", "place", "rue de la", "chemin")
                for f in ("{n} {kind} {name}", "{n}, {kind} {name}", "{n} bis {kind} {name}")),
}
PO_BOX = ("PO Box", "P.O. Box", "Postfach", "BP", "Apartado", "Caixa Postal", "Postbus", "Box", "Skrytka pocztowa")
FLATS = ("Flat", "Apt", "Apt.", "Apartment", "Suite", "Unit", "Wohnung", "App.", "Piso", "m.", "Studio", "Floor")
ID_CUES = {
    "dl": ("driver's licence", "driving licence no.", "driver's license #", "DL number", "licence number",
           "Führerschein-Nr.", "permis de conduire", "DL", "driving licence"),
    "passport": ("passport", "passport no.", "passport number", "Reisepass", "passeport", "pasaporte"),
    "natid": ("national ID", "ID card", "ID number", "personal number", "SSN", "PESEL", "BSN", "NIE", "DNI",
              "personnummer", "codice fiscale", "CPF", "CNP", "rodné číslo", "henkilötunnus", "Aadhaar", "TC kimlik",
              "NIF", "ID no."),
}
BRANDS = ("Nordvik", "Kettlebrook", "Aurelle", "Stonewick", "Larkspur & Co", "Velora", "Brightfield", "Oakhurst",
          "Moonreef", "Tidewell", "Ferncastle", "Quillon", "Ardent Home", "Polarline", "Bramblewood", "Cinderleaf",
          "Halvorsen Outdoor", "Marlowe Kitchen", "Sundew", "Corvane", "Heritage Loom", "Pinecrest", "Zephyrine",
          "Wrenfold", "Glasshouse Botanics", "Northstar Denim", "Lumen Audio", "Copperpot", "Ivybridge Linen")
PRODUCTS = ("merino crew-neck jumper", "cast iron skillet", "Chelsea boots", "Oxford shirt", "Boston fern",
            "Victoria sponge tin", "linen duvet cover", "espresso machine", "running shoes", "waterproof jacket",
            "ceramic teapot", "wireless earbuds", "yoga mat", "denim jacket", "scented candle", "Panama hat",
            "Windsor chair", "Cambridge satchel", "Berlin tote", "Milano sofa", "Camden sneakers",
            "Devon cream tea set",
            "Kyoto knife", "Alaska parka", "Jersey dress", "Aspen throw", "Sierra backpack", "Madison lamp",
            "Florence vase", "Oslo side table", "Brooklyn loafers", "Vienna coffee grinder", "Hudson bookcase",
            "Savannah sandals", "bamboo toothbrush set", "leather wallet", "silk scarf", "garden hose")
COLOURS = ("navy", "black", "sage green", "oatmeal", "rust", "charcoal", "ivory", "burgundy", "sky blue", "white")
SIZES = ("XS", "S", "M", "L", "XL", "XXL", "UK 8", "UK 10", "EU 42", "EU 38", "US 9", "size 12", "500 ml", "2 L",
         "28 cm", "king size", "double", "one size")
CURRENCIES = ("£{}", "${}", "€{}", "{} EUR", "{} €", "{} zł", "{} kr", "CHF {}", "{} Kč", "A${}", "R$ {}")
