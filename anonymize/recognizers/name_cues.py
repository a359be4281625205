"""Person names found by where they stand rather than by a list: after "ask for" / "thanks to" or a contact verb
("rang Nwachukwu"), before "here,", a listed name before a staff note's verb ("Brigitte ruft an", "Njoroge alipiga
simu"), the people of an e-mail header's To/Cc line, a support agent's "^AB" and "Annika, Kundtjänst" signatures, as
a sign-off or a "- Verified Buyer" header, a first name with an initial ("Hope O."), a kinship word followed by a
name that is also an English word ("my daughter will, ..."), and two or three capitalised words closing a text (a
signature without a dash: "... Tel 0123 456. /Aleka Lövgren") or one listed name closing it ("... Retourlabel gestuurd.
Daan"), a listed name after a staff label closing a note ("Atendente: Fernanda."), and a name after a Tagalog
personal article ("si Marites ito", "kay Rowena").

Context-word rules in the spirit of Presidio's `PatternRecognizer` context enhancement and of the lexical cues of
rule-based de-identification (PhysioNet deid, Neamatullah et al. 2008: name prefixes and context words around a
name). The cue decides, so names missing from every gazetteer ("Ask for Rajesh") are found; each rule refuses
common English words where the cue alone is weak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.name_lists import AMBIGUOUS, COMMON_WORDS, FIRST_NAMES, RELATION_WORDS


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# One name word of 2+ letters, with the inner capital of "O'Connor", "McDonald", "MacLeod" and a "-Smith" part
# (atomic groups: a word once matched is never split again, which under IGNORECASE made a long run of letters take
# quadratic time)
_NAMEISH = r"(?>[A-Za-z](?:[a-z]+(?:['’]?[A-Z][a-z]+)?|['’][A-Za-z][a-z]+)(?:-[A-Za-z][a-z]+)?)"  # any case first
_TITLE = r"(?>[A-Z](?:[a-z]+(?:['’]?[A-Z][a-z]+)?|['’][A-Z][a-z]+)(?:-[A-Z][a-z]+)?)"  # Title Case
# Cues after which a capitalised word is the name of someone who served or helped the writer, or whom staff
# contacted ("Customer rang Nwachukwu twice", "emailed Herrera the label").
_SERVICE_CUE = re.compile(  # the cue in any case, the name in Title Case ("ask for help" is no name)
    r"\b(?i:ask(?:ed)? for|speak to|spoke to|spoke with|talk to|talked to|thanks to|thank you to|served by|"
    r"helped by|dealt with|shout[- ]out to|kudos to|rang|rang back|phoned|phoned back|called back|e-?mailed|"
    # the staff member a note says handled the case ("Callback 98201 55432. Handled by Vikram.")
    r"handled by|processed by|attended by|assisted by|packed by|resolved by|atendido por|atendida por|"
    r"bearbeitet von|betreut von|traité par|traitée par|gestito da|gestita da|afgehandeld door|behandeld door|"
    r"behandlet af|behandlet av|handlagt av|"
    r"texted|messaged|wrote to|replied to|reminded|thanked)\s+(" + _TITLE + r"(?: " + _TITLE + r")?)(?![\w'’-])")
# A verb of a staff note right after a name at a sentence or line start or after a comma: "Brigitte ruft morgen an",
# "Gaetano ha chiamato", "Njoroge alipiga simu", "Lindiwe phoned about the couch" - the reporting and errand verbs of
# call-centre and CRM notes (call, phone, write, come, pass by, want, ask, say, pay, collect, sign) in the cue
# languages. The name must be a listed given name or surname (an unlisted capitalised word there was as often a
# noun: "Monteur komt", "Paczka przyszła", "Guard needs"; measured on the development sets, docs/BENCHMARKS.md).
_NOTE_VERBS = (*_words("""
called calls rang rings phoned phones emailed e-mailed texted messaged wrote writes came comes dropped stopped popped
visited collected picked paid signed approved confirmed wants wanted asked asks said says complained returned ordered
left reported requested replied needs needed brought loaded
ruft rief kommt kam möchte schrieb schreibt meldet meldete fragt fragte sagt sagte holt holte bezahlte zahlte bringt
brachte
belt belde komt kwam wil vraagt vroeg zegt zei mailde haalt haalde betaalde
ringde ringer hörde hørte kom kommer vill frågade spurgte spurte sa sagde mejlade hämtar henter betalte
appelle rappelle passe veut voulait écrit demande dit vient livre
llamó llama dice dijo quiere vino pasó pagó dejó escribió pidió pregunta preguntó firmó recogió confirmó entrega
chiama vuole passa scrive chiede viene ritira
ligou liga telefonou mandou disse diz quer passou pagou pediu escreveu veio vem reclamou confirmou
dzwoniła dzwonił zadzwoniła zadzwonił pisała pisał napisała napisał chce przyszła przyszedł odebrała odebrał
zapłaciła zapłacił prosi pytała pytał
volala volal psala psal přišla přišel zaplatila zaplatil
aradı arıyor yazdı geldi istiyor ödedi sordu dedi
nelpon menelepon datang minta bayar
alipiga amepiga anataka alikuja amekuja alisema amesema amelipa alilipa
nag-message tumawag nagbayad pumunta dumating
gọi nhắn
soitti soittaa kirjoitti tuli haluaa maksoi kysyi
hívott telefonált írt jött fizetett kérdezte
sună vrea
τηλεφώνησε ήρθε θέλει έγραψε πλήρωσε
звонила звонил позвонила позвонил писала писал хочет пришла пришёл пришел дзвонила дзвонив хоче звала звао дошла
дошао
ne
"""), "a appelé", "a rappelé", "est passé", "est passée", "a écrit", "a demandé", "a dit", "a payé",
               "a déposé", "est venu", "est venue", "a signé", "a confirmé", "ha llamado", "ha chiamato", "ha detto",
               "è passato", "è passata", "ha scritto", "ha pagato", "ha chiesto", "è venuto", "è venuta",
               "ha ritirato", "a sunat", "a scris", "a venit", "a plătit", "don call")  # "ne": Hindi/Urdu "Sadia ne"
_NOTE_NAME = r"[^\W\d_a-zß-ÿ][^\W\d_]*(?:['’-][^\W\d_]+)*"  # a capitalised word of any cased script
_NAME_BEFORE_VERB = re.compile(
    r"(?:^|(?<=[.!?;,/]\s)|(?<=[\n/]))(" + _NOTE_NAME + r"(?: " + _NOTE_NAME + r")?) (?:"
    + "|".join(re.escape(v) for v in sorted(_NOTE_VERBS, key=len, reverse=True)) + r")(?![\w'’-])", re.MULTILINE)
# The member of staff who handled a case, named by a note's closing label ("Troca aprovada. Atendente: Fernanda.",
# "Vyřídila Petra"): one or two capitalised words that end the sentence or line; they must be a listed given name or
# surname, since a chat writes its turns after the same labels ("Agent: Sure.", "Berater: Moment bitte").
_STAFF_CUE = re.compile(
    r"(?:^|(?<=[\s.;,(]))(?i:obsługiwał|obsługiwała|vyřídil|vyřídila|atendente|agent|agente|advisor|adviser|asesor|asesora|"
    r"berater|beraterin|mitarbeiter|mitarbeiterin|sachbearbeiter|sachbearbeiterin|bearbeiter|bearbeiterin|"
    r"conseiller|conseillère|operatore|operatrice|operador|operadora|medewerker|medewerkster|konsultant|"
    r"konsultantka|handläggare|saksbehandler|sagsbehandler|temsilci|vendedor|vendedora|cashier)"
    r"[ \t]*[:：]?[ \t]*(" + _NOTE_NAME + r"(?: " + _NOTE_NAME + r")?)(?=[ \t]*(?:[.!;,)]|$))", re.MULTILINE)
# A one-word signature closing a text after its last sentence ("... Retourlabel gestuurd. Daan"): a listed given
# name or surname; two or three words are `_CLOSING`'s
_CLOSING_ONE = re.compile(r"(?:[.!?]\s+/?|\n\s*/?)(" + _NOTE_NAME + r")\s*\.?\s*$")
# A name and the number to call, closing a line or text ("... Nugegoda 10250. Kumari - 077 555 3921", "Abdelkarim – 06
# 70 55 51 28"): the one or two capitalised words before the dash, after a sentence's end or at the line's start
_NAME_DASH_PHONE = re.compile(r"(?:^|(?<=[.!?:;]\s)|(?<=\n))(" + _NOTE_NAME + r"(?: " + _NOTE_NAME
                              + r")?)[ \t]+[-–—][ \t]+\+?\(?\d[\d ().-]{5,18}\d[ \t.]*$", re.MULTILINE)
# The person to call, named right before or after the number a delivery note gives ("Call Arman +374 91 555123",
# "appelez Fatoumata au 05 55 51 23 45", "Ligar para Celeste 84 555 1234", "helistada 5555 1234 (Rasmus)", "დარეკეთ
# 555 12 34 56, გიორგი."): a call verb of the cue languages, one or two capitalised words and the number; or the
# number, then one or two capitalised words in brackets, or after a comma closing the sentence
_PHONE_DIGITS = r"\+?\(?\d[\d ().-]{5,18}\d"
_CALL_VERB = (r"(?i:call|ring|phone|text|whatsapp|contact|ask for|llamar a|llame a|llama a|ligar para|ligue para|"
              r"liga para|ligar pra|appelez|appeler|appelle|chiamare|chiamate|chiama|bellen|bel|anrufen bei|"
              r"rufen sie|ruf|zadzwoń do|zadzwonić do|zavolejte|zavolat|zvoni|pozovite|nazovite|thirrni|helistage|"
              r"soita|soittakaa|ring til|ringa)")
_CALL_NAME = re.compile(r"(?<![\w'’-])" + _CALL_VERB + r"[ \t]+(" + _NOTE_NAME + r"(?: " + _NOTE_NAME
                        + r")?)[ \t,:]+(?:(?i:on|at|au|al|no|op|na|pod|na broj|on number)[ \t]+)?" + _PHONE_DIGITS)
_NAME_AFTER_PHONE = re.compile(_PHONE_DIGITS + r"(?:[ \t]*\((" + _NOTE_NAME + r"(?: " + _NOTE_NAME + r")?)\)|,[ \t]*("
                               + _NOTE_NAME + r"(?: " + _NOTE_NAME + r")?)[ \t]*[.!]?[ \t]*$)", re.MULTILINE)
# The person a card or gift message greets: a greeting of an occasion, then one or two capitalised words and a
# comma, "!" or the end ("Happy graduation Abdulla!", "Congrats on the new job Lerato!", "Feliz cumpleaños Marta,")
_GREETING_NAME = re.compile(
    r"(?i:happy (?:birthday|bday|graduation|anniversary|retirement|holidays|new year|mother's day|father's day)|"
    r"congrats(?: on (?:the|your) [\w ]{2,24}?)?|congratulations(?: on (?:the|your) [\w ]{2,24}?)?|"
    r"merry (?:christmas|xmas|chrissy)|feliz (?:cumpleaños|navidad|aniversario)|feliz aniversário|parabéns|"
    r"joyeux anniversaire|bon anniversaire|buon compleanno|alles gute(?: zum geburtstag)?|"
    r"herzlichen glückwunsch|gefeliciteerd|wszystkiego najlepszego|grattis på födelsedagen|grattis|"
    r"tillykke|gratulerer|doğum günün kutlu olsun|с днём рождения|с днем рождения|з днем народження|"
    r"χρόνια πολλά|გილოცავ დაბადების დღეს|gëzuar ditëlindjen|sretan rođendan|vše nejlepší|boldog születésnapot|"
    r"joyeux noël|buon natale|frohe weihnachten|feliz navidad|wesołych świąt)"
    r",?[ \t]+(" + _NOTE_NAME + r"(?: " + _NOTE_NAME + r")?)[ \t]*(?=[!,.🎉🎂🎁❤]|$)", re.MULTILINE)
# A review's signature of a name and the writer's town ("... no bother at all.\nGer, Limerick", "... three pairs. Sue
# from Stroud"): one or two capitalised words, then a comma or "from" and a listed city, closing the text
_NAME_AND_TOWN = re.compile(r"(?:^|[.!?]\s+/?|\n\s*/?)(" + _NOTE_NAME + r"(?: " + _NOTE_NAME + r")?)(?:,[ \t]*|"
                            r"[ \t]+(?:from|of|aus|de|da|van|z|iz)[ \t]+)(" + _NOTE_NAME + r"(?: " + _NOTE_NAME
                            + r")?)[ \t]*[.!]?\s*$")
# A member of staff's initials after a staff label or a staff verb's "by" ("Refund issued. Agent DL.", "Approved by
# KL."; not a bare "by": "made by HP."), or after a slash closing a note ("Rückruf erledigt 14:20. /mh")
_STAFF_INITIALS = re.compile(r"(?:(?<![\w-])(?i:agent|agente|rep|advisor|operator|operador|operatore|atendente|"
                             r"approved by|handled by|processed by|checked by|signed by)[ \t]*:?[ \t]*"
                             r"([A-Z]{2,3})(?=[ \t]*(?:[.!;)]|$))"
                             r"|(?:^|(?<=\s))/([A-Za-z]{2,3}|[A-Z][a-z][A-Z])[ \t]*$)", re.MULTILINE)
# An initial and a capitalised Cyrillic word, as Russian, Ukrainian and Mongolian write a person (an initial of the
# father's or family name before the given name: "Б.Сарнай", "И. Петров"); a lower-case abbreviation ("г.Москва",
# "ул. Ленина") is no initial
_CYRILLIC_INITIAL = re.compile(r"(?<![\w.])([А-ЯЁӨҮІЇЄ]\.[ \t]?[А-ЯЁӨҮІЇЄ][а-яёөүіїє]{2,}(?:-[А-ЯЁ][а-яё]+)?)"
                               r"(?![\w.-])")
# Tagalog's personal articles "si", "ni", "kay" (plural "sina", "nina", "kina") stand only before the name of a person
# ("si Marites ito", "Pa-deliver na lang po kay Rowena"); the same words are Spanish, French and Swahili ones ("si
# Correos no entrega", "ni Amazon ni eBay"), so the text must hold Tagalog function words too, or the name be listed
_TAGALOG_ARTICLE = re.compile(r"(?<![\w'’-])(?:[Ss]i|[Nn]i|[Kk]ay|[Ss]ina|[Nn]ina|[Kk]ina)[ \t]+(" + _NOTE_NAME
                              + r"(?: " + _NOTE_NAME + r")?)(?![\w'’-])")
_TAGALOG = re.compile(r"(?i)(?<![\w'’-])(?:po|ng|ang|mga|naman|daw|ito|yung|nang|lang|niya|siya|kasi|ako|wala)"
                      r"(?![\w'’-])")
_INITIAL = re.compile(r"(?<![\w'’-])(" + _TITLE + r") [A-Z]\.(?!\w)")  # "Hope O.", "Dave K."
_PARTICLES = frozenset(("van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "la", "le", "bin", "al"))
# An e-mail header's address line ("To: Harriet Osei; Callum McAteer", "cc: Tamika Reyes, Ji-woo Han", "An: ...",
# "À : ...", "Para: ..."): each item of one to four capitalised words (particles between) is a person, unless it is
# an address, which the e-mail recognizer finds.
_HEADER_LINE = re.compile(r"(?im)^[ \t>]*(?:to|cc|bcc|from|an|von|kopie|à|de|para|cc/bcc|aan|van|till|från|til|fra|"
                          r"do|od|a|da|per)[ \t]*:[ \t]*([^\n]+)$")
# a team or department on a header line ("Store Managers", "Accounts Payable", "Logistics Team")
_TEAM_WORDS = _words("""store stores shop shops manager managers team teams dept department sales accounts payable
operations logistics warehouse finance marketing legal office branch branches group admin helpdesk desk""")
_HEADER_JOINERS = _PARTICLES | frozenset(("ap", "y", "e"))  # Welsh "ap", Spanish "y", Portuguese "e" inside a name
_HEADER_ITEM = re.compile(r"(?<![^\s,;])(" + _NOTE_NAME + r"(?:[ \t]+(?:(?:"
                          + "|".join(sorted(_HEADER_JOINERS)) + r")[ \t]+){0,2}" + _NOTE_NAME
                          + r"){0,3})[ \t]*(?=[,;]|$)")
_PARTICLE = r"(?:(?i:" + "|".join(sorted(_PARTICLES)) + r") )"  # "Will van der Berg", "Ana de la Cruz"
_FULL_NAME = rf"{_NAMEISH}(?: {_PARTICLE}{{0,2}}{_NAMEISH}){{0,2}}"  # one to three name words
_HERE = re.compile(r"(?:^|(?<=[.!?]\s))(" + _FULL_NAME + r") here(?=\s*[,.!:;-])")
_SIGN_OFF = re.compile(r"(?:^|\s)[-–—~]\s*(" + _FULL_NAME + r")\s*[.!]?\s*$")
# A signature closing a text: the last sentence or line is two or three capitalised words and nothing else
# ("... Tel +46 338 671 159. /Aleka Lövgren", "... DNI 53288140L. Sergio Ibáñez."); Unicode letters.
_CAP_WORD = r"[^\W\d_a-zß-ÿ][^\W\d_]*(?:['’-][^\W\d_]+)*"
_HONORIFICS = frozenset(("様", "さま", "さん", "殿", "氏", "先生", "님", "씨", "고객님", "선생님"))  # after a CJK name
# closing words on a line of their own, as a signature is written ("Thanks,\n", "...\n/", "谢谢！\n")
# A social-media agent's initials or first name after a caret closing a reply ("... call you back today. ^AB",
# "^Memo"), the signature convention of brands' support accounts
_CARET_SIGN = re.compile(r"(?<![\w^])\^([A-Z]{2,3}|[A-Z][a-z]{1,14})(?=[ \t]*(?:$|\n))", re.MULTILINE)
# A signature line of a name and the role or department after a comma or bar ("Annika, Kundtjänst", "Marco |
# Customer Care"): a listed given name first, a role or department word (refine's stop list) right after it
_NAME_ROLE_LINE = re.compile(r"(?m)^[ \t/>-]*(" + _NOTE_NAME + r"(?:[ \t]+" + _NOTE_NAME + r")?)[ \t]*[,|][ \t]*"
                             r"([^\W\d_][\w'’-]*)[^\n]{0,40}$")
_SIGNED = re.compile(r"\n[ \t]*/?[ \t]*$")
_CLOSING = re.compile(r"(?:^|[.!?]\s+/?|\n\s*/?|\s/)(" + _CAP_WORD + r"(?: " + _CAP_WORD + r"){1,2})\s*\.?\s*$")
_VERIFIED = re.compile(r"^\s*(" + _FULL_NAME + r")\s*[-–—:,]?\s*\(?verified "
                       r"(?:buyer|purchaser?|customer|owner|reviewer)", re.IGNORECASE)
_KIN = "|".join(re.escape(w) for w in RELATION_WORDS[:36])  # the kinship / social words, not "thanks" or "hi"
_KIN_AMBIGUOUS = re.compile(r"\b(?:my|our|his|her|their)\s+(?:" + _KIN + r"),?\s+(" + "|".join(sorted(AMBIGUOUS))
                            + r")\b(?!['’])", re.IGNORECASE)
# Words a service cue or sign-off does not make a name ("thanks to Christmas", "- Highly Recommended").
_NOT_NAMES = _words("""
january february march april june july september october november december monday tuesday wednesday thursday
friday saturday sunday christmas easter covid god everyone everybody all you them him her team staff customer
service support help this that these those it one five four three two stars star great good excellent amazing
best thanks thank recommended highly love loved perfect happy buyer verified overall update edit same nothing
everything something anything nobody somebody anyone someone worth value quality fast quick delivery shipping
price product recommend okay cheers again buy would five-star
""")
_NOT_HEADER_NAMES = COMMON_WORDS | _NOT_NAMES | _TEAM_WORDS  # no word of a person on a header line
# Adverbs that end in -s and may follow the modal "will"/"may": "my son will always ..." keeps "will" a verb.
_S_ADVERBS = _words("always sometimes perhaps afterwards towards nevertheless thus is was has does")
_PAST_IRREGULAR = _words("said told thought got found took gave made sent bought came went wore kept")


def _is_name_word(word: str, *, strict: bool) -> bool:
    """A listed first name, or (unless `strict`) a word in no common-word list that does not look like a verb or
    adverb by its ending."""
    lower = word.lower().strip("'’")
    if lower in FIRST_NAMES or lower in AMBIGUOUS:
        return True
    if strict or lower in COMMON_WORDS or lower in _NOT_NAMES or len(lower) < 2:
        return False
    return not lower.endswith(("ly", "ed", "ing"))


def _all_names(words: list[str]) -> bool:
    """Every word is name-like: listed, or in no common-word list ("hope brennan" passes, "love it" does not)."""
    return all(_is_name_word(w, strict=False) for w in words)


def _clause_follows(text: str, end: int) -> bool:
    """After "my daughter will": a clause boundary, or a verb that a modal "will"/"may" could not take ("says",
    "loved"), so the word was a name."""
    rest = text[end:]
    if re.match(r"\s*(?:[,;:.!?)\]]|$)", rest):
        return True
    nxt = re.match(r"\s+([a-z]+)\b", rest)
    if nxt is None:
        return False
    word = nxt.group(1)
    third_person = word.endswith("s") and not word.endswith(("ss", "us", "is")) and word not in _S_ADVERBS
    return third_person or word.endswith("ed") or word in _PAST_IRREGULAR


@dataclass
class NameCueRecognizer:
    """Names found by the words around them; scores sit between the gazetteer's 0.6 and NER's 0.85."""

    name: str = "name-cues"
    score: float = 0.8  # a cue plus a name-shaped word: strong evidence
    weak_score: float = 0.7  # a kinship word plus a name that is also an English word, before a clause boundary

    @property
    def entities(self) -> tuple[str, ...]:
        return ("PERSON",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        out = [self._finding(m, self.score) for m in _SERVICE_CUE.finditer(text)
               if _all_names(m.group(1).split()) and m.group(1)[0].isupper()]
        out += [self._finding(m, self.score) for m in _INITIAL.finditer(text)
                if _is_name_word(m.group(1), strict=True) or _after_cue(text, m.start())]
        for regex in (_HERE, _SIGN_OFF, _VERIFIED):
            for m in regex.finditer(text):
                words = [w for w in m.group(1).split() if w.lower() not in _PARTICLES]
                listed = _is_name_word(words[0], strict=True)
                capitalised = all(w[0].isupper() for w in words)  # a signature is written capitalised
                shaped = capitalised if regex is _SIGN_OFF else (len(words) > 1 or capitalised)
                if _all_names(words) and (listed or shaped):
                    out.append(self._finding(m, self.score))
        out += [self._finding(m, self.score) for m in _NAME_BEFORE_VERB.finditer(text) if _listed_note_name(m.group(1))]
        out += [self._finding(m, self.score) for m in _STAFF_CUE.finditer(text) if _listed_note_name(m.group(1))]
        one = _CLOSING_ONE.search(text[-60:])
        if one is not None and _listed_note_name(one.group(1)) and one.group(1).lower() not in _NOT_NAMES:
            start = max(0, len(text) - 60) + one.start(1)
            out.append(Finding("PERSON", start, start + len(one.group(1)), self.weak_score, self.name))
        out += self._tagalog_names(text)
        if "." in text:
            out += [self._finding(m, self.score) for m in _CYRILLIC_INITIAL.finditer(text)]
        out += [self._finding(m, self.score) for m in _NAME_DASH_PHONE.finditer(text) if _signature(m.group(1))]
        out += [self._finding(m, self.score) for m in _CALL_NAME.finditer(text) if _addressed(m.group(1))]
        for m in _NAME_AFTER_PHONE.finditer(text):
            group = 1 if m.group(1) else 2
            value = m.group(group)
            # in brackets, a cased word must be a listed name: "Bestellung 3401878 (Wintermantel)", "(Zentrale)"
            if _addressed(value) and (group == 2 or not _cased(value) or _listed_note_name(value)):
                out.append(Finding("PERSON", m.start(group), m.end(group), self.score, self.name))
        out += [self._finding(m, self.score) for m in _GREETING_NAME.finditer(text) if _addressed(m.group(1))]
        town = _NAME_AND_TOWN.search(text[-80:])
        if town is not None and _signature(town.group(1)) and _is_city(town.group(2)):
            start = max(0, len(text) - 80) + town.start(1)
            out.append(Finding("PERSON", start, start + len(town.group(1)), self.weak_score, self.name))
        for m in _STAFF_INITIALS.finditer(text):
            group = 1 if m.group(1) else 2
            if m.group(group).lower() not in COMMON_WORDS and not _NOT_INITIALS.fullmatch(m.group(group)):
                out.append(Finding("PERSON", m.start(group), m.end(group), self.score, self.name))
        out += self._header_names(text)
        out += [Finding("PERSON", m.start(1), m.end(1), self.score, self.name) for m in _CARET_SIGN.finditer(text)
                if m.group(1).lower() not in COMMON_WORDS]
        out += [Finding("PERSON", m.start(1), m.end(1), self.score, self.name) for m in _NAME_ROLE_LINE.finditer(text)
                if _role_word(m.group(2)) and _listed_note_name(m.group(1).split()[0])]
        out += [self._finding(m, self.weak_score) for m in _KIN_AMBIGUOUS.finditer(text)
                if _clause_follows(text, m.end(1))]
        closing = _CLOSING.search(text[-120:])
        offset = max(0, len(text) - 120)
        if closing is not None:
            start, end = offset + closing.start(1), offset + closing.end(1)
            *name, last = text[start:end].split(" ")
            if name and last in _HONORIFICS:  # "山口 奈々 様": the name without its honorific
                end -= len(last) + 1
            if _signature(text[start:end], signed=_SIGNED.search(text, 0, start) is not None):
                out.append(Finding("PERSON", start, end, self.weak_score, self.name))
        return out

    def _tagalog_names(self, text: str) -> list[Finding]:
        """The name after a Tagalog personal article (`_TAGALOG_ARTICLE`): no stop word, common word or short
        all-capitals code ("ni TZ-22019": Swahili "is"), and a listed name unless the text is Tagalog."""
        from anonymize.recognizers.refine import is_stop_word  # refine imports name_lists, not this module

        out, tagalog = [], None
        for m in _TAGALOG_ARTICLE.finditer(text):
            first = m.group(1).split()[0]
            if is_stop_word(first) or first.lower() in COMMON_WORDS or (first.isupper() and len(first) <= 3):
                continue
            if tagalog is None:
                tagalog = _TAGALOG.search(text) is not None
            if tagalog or _listed_note_name(m.group(1)):
                out.append(self._finding(m, self.score))
        return out

    def _header_names(self, text: str) -> list[Finding]:
        """The people of an e-mail header's To/Cc/From line, item by item: two or more words, none a stop word or
        common word ("Customer Service", "Store Managers" are no one), and one of them a listed given name or
        surname, or another item of the line such a name (a list of people: "Tamika Reyes, Ji-woo Han")."""
        from anonymize.recognizers.refine import is_stop_word  # refine imports name_lists, not this module

        out = []
        for line in _HEADER_LINE.finditer(text):
            items = []
            for item in _HEADER_ITEM.finditer(line.group(1)):
                words = [w for w in item.group(1).split() if w.lower() not in _HEADER_JOINERS]
                if len(words) >= 2 and not any(is_stop_word(w) or w.lower() in _NOT_HEADER_NAMES for w in words):
                    items.append((line.start(1) + item.start(1), item.group(1), _listed_note_name(" ".join(words))))
            if any(listed for _, _, listed in items):
                out += [Finding("PERSON", start, start + len(value), self.score, self.name)
                        for start, value, _ in items]
        return out

    def _finding(self, match: re.Match[str], score: float) -> Finding:
        start, end = match.span(1)
        if match.re is _INITIAL:
            end = match.end()  # "Hope O." with the initial and its full stop
        return Finding("PERSON", start, end, score, self.name)


# two or three letters that are a unit, a code or a word after "by" or a slash, not initials ("by DHL", "km/h",
# "Agent UK", "by EMS", "/kg")
_NOT_INITIALS = re.compile(r"(?i:dhl|ups|dpd|gls|ems|tnt|usps|fedex|uk|us|usa|eu|uae|km|kg|cm|mm|ml|pcs|pc|tv|pm|am|"
                           r"hr|hrs|min|sec|day|mo|yr|yrs|ea|box|set|qty|ref|no|nr|ok|inc|ltd|llc|gmbh|sa|ag|bv|srl|co)")


def _is_city(value: str) -> bool:
    """A listed city (`world_places`, GeoNames: 50,000 people or more; or `places`'s English-speaking towns)."""
    from anonymize.recognizers.places import CITIES  # lazy: the lists load once, with the recognizers
    from anonymize.recognizers.world_places import cities

    return value.lower() in cities() or value.lower() in CITIES


def _role_word(word: str) -> bool:
    """A role or department word of a signature ("Kundtjänst", "Customer", "Filialleitung", "Manager")."""
    from anonymize.recognizers.refine import is_stop_word  # refine imports name_lists, not this module

    return is_stop_word(word) and word[:1].isupper()


def _listed_note_name(value: str) -> bool:
    """A name before a note's verb: some word a listed given name or surname, none a stop word or common word."""
    from anonymize.recognizers.recase import listed_name  # lazy: recase loads the name lists
    from anonymize.recognizers.refine import is_stop_word  # refine imports name_lists, not this module

    return not any(is_stop_word(w) or w in COMMON_WORDS for w in value.lower().split()) and listed_name(value)


def _signature(value: str, *, signed: bool = False) -> bool:
    """Two or three capitalised words that could be a name: none a stop word, label or common word, and not
    ALL-CAPS words of two letters or fewer ("DHL", "UK" stay out). A word of a script without letter case (Han,
    kana, Arabic, Hebrew, Thai) counts only on a line of its own (`signed`: "Thanks,\n栗山 リサ"); "请寄到上海 谢谢"
    or "... ארבעה כוכבים." closing a text's last sentence says nothing of a name."""
    from anonymize.recognizers.refine import is_stop_word  # refine imports name_lists, not this module

    words = value.split()
    return all((w[0].isupper() or (signed and not w[0].islower())) and not is_stop_word(w)
               and w.lower() not in COMMON_WORDS and w.lower() not in _NOT_NAMES
               and not (w.isupper() and len(w) <= 3) for w in words)


def _addressed(value: str) -> bool:
    """One or two words a caller or a card addresses that could be a name: capitalised, or of a script without
    letter case (`_cased`); no stop word, common word, kinship word ("Happy birthday Mum!") or weekday ("Call
    Monday")."""
    from anonymize.recognizers.refine import is_stop_word  # refine imports name_lists, not this module

    return all(not is_stop_word(w) and w.lower() not in COMMON_WORDS and w.lower() not in _NOT_NAMES
               and w.lower() not in RELATION_WORDS and not (w.isupper() and len(w) <= 3)
               and (w[0].isupper() or not _cased(w)) for w in value.split())


def _cased(value: str) -> bool:
    """`value` is written in a script with letter case; Georgian's Mkhedruli is not, although Python gives it
    capitals (Mtavruli, which Georgian does not use to capitalise)."""
    return any(ch.isupper() or ch.islower() for ch in value if not "\u10d0" <= ch <= "\u10ff")


def _after_cue(text: str, start: int) -> bool:
    """"Thanks to Bronwen K.": an unlisted capitalised word with an initial counts after a service cue."""
    return re.search(r"\b(?:to|for|by|with|from)\s+$", text[max(0, start - 8): start], re.IGNORECASE) is not None
