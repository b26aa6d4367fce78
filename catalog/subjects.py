"""Subjects a film is about, as its tags, title and overview say: what "nothing with zombies"
leaves out.

A person who says "no zombies" or "not too violent" names a subject, not a genre: the catalog
has no genre for it, but its user tags do ("zombies", "violent", "Tom Hanks") and overviews
often say it too. :func:`subject_forms` gives a subject's singular and plural spellings;
:func:`items_about` the items whose tags name the subject, or whose title or overview has it as
whole words. The planner only offers subjects that are catalog tags (``tag_vocabulary``), so a
negated word nobody tags ("not too long" where no film is tagged "long") excludes nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from catalog.domain import Catalog
from catalog.titles import normalize_title

MAX_SUBJECT_WORDS = 3


def subject_forms(subject: str) -> frozenset[str]:
    """The normal form of a subject with its last word in singular and plural: "zombies" ->
    {"zombies", "zombie"}, "ghost story" -> {"ghost story", "ghost stories"}."""
    norm = normalize_title(subject)
    if not norm:
        return frozenset()
    head, _, last = norm.rpartition(" ")
    lead = f"{head} " if head else ""
    forms = {last}
    if last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        forms.add(last[:-1])  # "zombies" -> "zombie", "heists" -> "heist"
        if last.endswith("ies") and len(last) > 4:
            forms.add(last[:-3] + "y")  # "stories" -> "story"
        elif last.endswith("es") and len(last) > 4 and last[-3] in "sxz":
            forms.add(last[:-2])  # "boxes" -> "box"
    elif last.endswith("y") and len(last) > 3 and last[-2] not in "aeiou":
        forms.add(last[:-1] + "ies")
    else:
        forms.add(last + ("es" if last.endswith(("s", "x", "z", "ch", "sh")) else "s"))
    return frozenset(lead + form for form in forms)


@lru_cache(maxsize=4)
def tag_vocabulary(catalog: Catalog) -> frozenset[str]:
    """Every tag of the catalog in normal form (what a negated subject is checked against)."""
    return frozenset(normalize_title(tag) for item in catalog.items for tag in item.tags) - {""}


def catalog_words(catalog: Catalog) -> set[str]:
    """Every word the catalog's titles, tags and overviews use, in normal form: words people
    spell that way on purpose (a typo check leaves them alone)."""
    return {
        word
        for _, tags, title, overview in _texts(catalog)
        for part in (title, overview, *tags)
        for word in part.split()
    }


@lru_cache(maxsize=4)
def _texts(catalog: Catalog) -> tuple[tuple[int, frozenset[str], str, str], ...]:
    """Each item's id, tags, title and overview in normal form (texts padded with spaces)."""
    return tuple(
        (
            item.id,
            frozenset(normalize_title(tag) for tag in item.tags),
            f" {normalize_title(item.title)} ",
            f" {normalize_title(item.overview)} ",
        )
        for item in catalog.items
    )


@lru_cache(maxsize=256)
def items_about(catalog: Catalog, subject: str) -> tuple[int, ...]:
    """The items about ``subject``: tagged with it (either number), or with it as whole words
    in the title or overview. Cached per subject; a scan of the catalog the first time."""
    return _matching(catalog, subject, titles=True)


@lru_cache(maxsize=256)
def items_described(catalog: Catalog, subject: str) -> tuple[int, ...]:
    """The items whose tags or overview say ``subject``; unlike :func:`items_about`, a title
    alone does not count: what a request asks *for* is found by what a film is about, not by
    a word of its title ("a movie about a dog" is not *Dog Day Afternoon*)."""
    return _matching(catalog, subject, titles=False)


def _matching(catalog: Catalog, subject: str, *, titles: bool) -> tuple[int, ...]:
    forms = subject_forms(subject)
    if not forms:
        return ()
    pattern = re.compile("|".join(f" {re.escape(form)} " for form in sorted(forms)))
    return tuple(
        item_id
        for item_id, tags, title, overview in _texts(catalog)
        if not tags.isdisjoint(forms)
        or pattern.search(overview)
        or (titles and pattern.search(title))
    )
