"""Name check for account verification, in the manner of EPC Verification of Payee.

Names compare in upper case without diacritics, Đ→D included: "Nguyễn Văn Đức" is "NGUYEN VAN DUC".
A close match (CMTC) is what UK Confirmation of Payee treats as one: the same words in another
order, one word missing (a middle name left out), or one small typing slip.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from switch.scheme.codes import VerificationOutcome

# Đ and đ are letters of their own, not D with a combining mark, so NFD does not strip them.
_SPECIAL_LETTERS = str.maketrans({"Đ": "D", "đ": "D", "Ð": "D", "ð": "D"})
NAME_LENGTH_MAX = 140  # ISO 20022 Max140Text


NORMALIZED_NAMES_CACHED_MAX = 65_536  # Vietnamese names repeat: a payroll checks the same few thousand often


@lru_cache(maxsize=NORMALIZED_NAMES_CACHED_MAX)
def normalize_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name.translate(_SPECIAL_LETTERS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.upper().split())


def compare_names(given: str, holder: str) -> VerificationOutcome:
    a, b = normalize_name(given), normalize_name(holder)
    if not a or not b:
        return VerificationOutcome.NMTC
    if a == b:
        return VerificationOutcome.MTCH
    return VerificationOutcome.CMTC if _close(a.split(), b.split()) else VerificationOutcome.NMTC


def mask_name(name: str) -> str:
    """Family and middle names to their initials, the given name whole: NGUYEN VAN DUC → N***** V** DUC."""
    words = normalize_name(name).split()
    if len(words) <= 1:
        return " ".join(words)
    masked = [w[0] + "*" * (len(w) - 1) for w in words[:-1]]
    return " ".join([*masked, words[-1]])


def _close(a: list[str], b: list[str]) -> bool:
    if sorted(a) == sorted(b):
        return True
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    if len(longer) - len(shorter) == 1 and len(shorter) >= 2:
        # one middle word left out: family and given names must still be there
        if shorter[0] == longer[0] and shorter[-1] == longer[-1]:
            return True
    if len(a) == len(b):
        differing = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        return len(differing) == 1 and _edit_distance_at_most_one(*differing[0])
    return False


def _edit_distance_at_most_one(x: str, y: str) -> bool:
    if abs(len(x) - len(y)) > 1:
        return False
    if len(x) == len(y):
        return sum(1 for p, q in zip(x, y, strict=True) if p != q) <= 1
    short, long = (x, y) if len(x) < len(y) else (y, x)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
