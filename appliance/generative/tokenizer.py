"""Offline text tokenizer for the generative recommender: a small WordPiece vocabulary trained on the catalog with
the `tokenizers` library, plus special tokens and one token per code value and level (`<a_12>`, `<b_201>`, ...),
as LC-Rec (Zheng et al., ICDE 2024) and Semantic Convergence (Li et al., AAAI 2025) add item-code tokens to the LM.

Code tokens are added in level order, so the token of value v at level d is `code_offsets[d] + v`: the decoder
turns trie values into token ids with one addition. No network and no hub: the vocabulary comes from our own data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from appliance.errors import UserError

PAD, UNK, BOS, EOS, SEP = "[PAD]", "[UNK]", "[BOS]", "[EOS]", "[SEP]"
TASK_TOKENS = ("<seq>", "<item2code>", "<code2item>", "<intent>", "<neg>")  # one prompt prefix per alignment task
ANSWER_TOKENS = ("<yes>", "<no>")  # answers of the negative-sampling task
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS, SEP, *TASK_TOKENS, *ANSWER_TOKENS)
LEVEL_PREFIXES = "abcdefgh"  # <a_i> first level, <b_i> second...; 8 levels is far beyond the 4 we use


class GenTokenizerError(UserError, ValueError):
    """The tokenizer cannot be built or does not match the codes it is used with."""


@dataclass
class GenTokenizer:
    """A `tokenizers.Tokenizer` plus where its code tokens start."""

    tokenizer: Tokenizer
    level_sizes: tuple[int, ...]

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    @cached_property
    def code_offsets(self) -> np.ndarray:
        """(L,) token id of value 0 at each level."""
        first = [self.token_id(code_token(d, 0)) for d in range(len(self.level_sizes))]
        return np.asarray(first, np.int64)

    def token_id(self, token: str) -> int:
        tid = self.tokenizer.token_to_id(token)
        if tid is None:
            raise GenTokenizerError(f"token {token!r} is not in the vocabulary")
        return tid

    def encode_text(self, text: str, max_tokens: int) -> list[int]:
        """Word-piece ids of `text` without special tokens, cut to `max_tokens`."""
        return self.tokenizer.encode(text, add_special_tokens=False).ids[:max_tokens]

    def encode_codes(self, codes: np.ndarray) -> np.ndarray:
        """Token ids of codes (..., L)."""
        return np.asarray(codes, np.int64) + self.code_offsets

    def decode(self, ids: Iterable[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def to_str(self) -> str:
        return self.tokenizer.to_str()

    @classmethod
    def from_str(cls, text: str, level_sizes: tuple[int, ...]) -> GenTokenizer:
        tok = cls(Tokenizer.from_str(text), tuple(level_sizes))
        tok.check()
        return tok

    def check(self) -> None:
        """Code tokens must be contiguous per level (the decoder relies on it)."""
        for d, size in enumerate(self.level_sizes):
            last = self.tokenizer.token_to_id(code_token(d, size - 1))
            if last is None or last != self.code_offsets[d] + size - 1:
                raise GenTokenizerError(f"code tokens of level {d} are missing or not contiguous")


def code_token(level: int, value: int) -> str:
    return f"<{LEVEL_PREFIXES[level]}_{value}>"


def build_tokenizer(texts: Iterable[str], level_sizes: tuple[int, ...], vocab_size: int = 2000,
                    min_frequency: int = 2) -> GenTokenizer:
    """Train a lower-cased WordPiece vocabulary of about `vocab_size` on `texts`, then add the code tokens."""
    if len(level_sizes) > len(LEVEL_PREFIXES):
        raise GenTokenizerError(f"at most {len(LEVEL_PREFIXES)} code levels are supported, got {len(level_sizes)}")
    tokenizer = Tokenizer(models.WordPiece(unk_token=UNK))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=list(SPECIAL_TOKENS), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.add_special_tokens([code_token(d, v) for d, size in enumerate(level_sizes) for v in range(size)])
    tok = GenTokenizer(tokenizer, tuple(int(s) for s in level_sizes))
    tok.check()
    return tok
