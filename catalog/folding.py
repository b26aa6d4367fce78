"""Accent folding: the one way every layer makes "Amélie" and "Amelie" the same spelling."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Letters NFKD does not decompose into an ASCII base letter.
_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "þ": "th"}
    | {"Ø": "O", "Æ": "AE", "Œ": "OE", "Ł": "L", "Đ": "D", "Þ": "TH"}
)


@lru_cache(maxsize=1 << 16)  # titles, tags and words recur from turn to turn
def fold_accents(text: str) -> str:
    """Strip accents and spell letters like "ø" in ASCII, keeping case: "Amélie" -> "Amelie"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.translate(_LETTERS)
