"""The descriptive text of an item, the input of its embedding.

Title, year, genres, the most frequent user tags and the overview, in that order: the short,
discriminative fields come first so they survive the model's 256-token truncation.
"""

from __future__ import annotations

import re

from catalog.domain import Item

_TRAILING_ARTICLE = re.compile(
    r"^(?P<rest>.+), (?P<article>The|A|An|Les|Le|La|L'|El|Il|Der|Die|Das)$"
)


def natural_title(title: str) -> str:
    """``"Matrix, The"`` → ``"The Matrix"``; alternative titles in parentheses are kept."""
    main, sep, rest = title.partition(" (")
    match = _TRAILING_ARTICLE.match(main)
    if match:
        article = match.group("article")
        joiner = "" if article.endswith("'") else " "
        main = f"{article}{joiner}{match.group('rest')}"
    return f"{main}{sep}{rest}"


def item_text(item: Item, *, max_tags: int = 10, enrichment: str = "") -> str:
    """One paragraph describing the item, for embedding and for grounding explanations.

    ``enrichment`` (``catalog.enrichment``: tone, themes, audience, pace) goes before the
    overview: it is short and general, the overview is the part truncation may cut. Only
    embeddings get it; explanations never show it.
    """
    title = natural_title(item.title) + (f" ({item.year})" if item.year else "") + "."
    body = _body(item, max_tags=max_tags, enrichment=enrichment)
    return f"{title} {body}" if body else title


def description_text(item: Item, *, max_tags: int = 10, enrichment: str = "") -> str:
    """:func:`item_text` without the title: what the film is, not what it is called.

    Text search ranks by this text's vector (``catalog.search``): embedded with the title, "a
    real tearjerker" found *The Man Who Cried* and *The Crying Game* and "a mind-bending
    movie" *A Beautiful Mind*, by their titles' meaning rather than their films'.

    An item nothing but its genres describes (no tags, overview or enrichment) keeps its whole
    text: "Genres: Horror, Thriller." alone is the closest text there is to "thrillers", and such
    films (*Inside*, *96 Minutes*, one rating each) opened "Hitchcock thrillers".
    """
    if not (item.tags or item.overview or enrichment.strip()):
        return item_text(item, max_tags=max_tags, enrichment=enrichment)
    return _body(item, max_tags=max_tags, enrichment=enrichment)


def _body(item: Item, *, max_tags: int, enrichment: str) -> str:
    parts = []
    if item.genres:
        parts.append("Genres: " + ", ".join(item.genres) + ".")
    if item.tags:
        parts.append("Tags: " + ", ".join(item.tags[:max_tags]) + ".")
    if enrichment.strip():
        parts.append(" ".join(enrichment.split()))
    if item.overview:
        parts.append(item.overview.strip())
    return " ".join(parts)
