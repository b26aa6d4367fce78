"""Checks a simulation runs on itself and on the system, from its own data.

* :class:`ShownTitles` reads a reply as a person would: a "Title (Year)" in the text is a film
  the reply names, and it must exist in the simulator's own read of the catalog (not in the
  agent's candidate list, which the reply is built from and so could never disagree).
* :func:`leak_rank` asks whether the user's words alone give its film away: the target's rank in
  a plain text retrieval over everything the user said, ``None`` when it is not in the top
  ``LEAK_TOP_K`` of the whole catalog. Such sessions are reported apart ("kept" sessions are the
  others).
"""

from __future__ import annotations

import re
from collections import defaultdict

from catalog.domain import Catalog
from catalog.search import Retriever
from catalog.titles import title_aliases, title_key

LEAK_TOP_K = 10
MAX_TITLE_WORDS = 20
# "(1999)" after some words on the same line; the words before it hold the title's tail
_TITLED = re.compile(r"([^\n()]{1,200}?)\s*\(((?:18|19|20)\d\d)\)")


class ShownTitles:
    """The catalog's titles by year, for finding the films a reply names in its text."""

    def __init__(self, catalog: Catalog) -> None:
        self._keys: dict[int, set[str]] = defaultdict(set)
        for item in catalog:
            if item.year:
                for alias in title_aliases(item.title) or [item.title]:
                    self._keys[item.year].add(title_key(alias))

    def unknown(self, reply: str) -> list[str]:
        """Every "Title (Year)" of the reply no catalog film of that year is called: a film the
        reply made up. A title is matched on any tail of the words before the year, so list
        markers and lead-in words ("1. **", "because you liked") do not matter; a year after a
        lowercase word ("released in (1999)") is no title."""
        unknown = []
        for match in _TITLED.finditer(reply):
            words = re.sub(r"[*_`\"“”]", " ", match.group(1)).split()[-MAX_TITLE_WORDS:]
            keys = self._keys.get(int(match.group(2)), set())
            tails = (title_key(" ".join(words[n:])) for n in range(len(words)))
            titled = bool(words) and not words[-1][:1].islower()  # "and (1999)" names nothing
            if titled and not any(tail in keys for tail in tails):
                unknown.append(f"{' '.join(words)} ({match.group(2)})")
        return unknown


def leak_rank(retriever: Retriever, said: str, target: int) -> int | None:
    """The target's 1-based rank in a plain text retrieval over what the user said, or ``None``
    when it is not in the top ``LEAK_TOP_K``."""
    hits = [c.item_id for c in retriever.by_text(said, LEAK_TOP_K)]
    return hits.index(target) + 1 if target in hits else None
