"""Title echo: request words a title shares while the rest of the item does not."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.domain import Catalog, Item
from catalog.echo import ECHO_PENALTY, TitleEcho, request_words
from catalog.index import VectorIndex
from catalog.search import Retriever

CATALOG = Catalog(
    [
        Item(1, "Office Space", 1999, ("Comedy",), ("workplace",), "A worker hates his job."),
        Item(2, "2001: A Space Odyssey", 1968, ("Sci-Fi",), ("space",), "A voyage to Jupiter."),
        Item(3, "City Lights", 1931, ("Comedy", "Romance"), (), "A tramp loves a blind girl."),
        Item(4, "Oldboy", 2003, ("Mystery",), (), "A man is imprisoned for 15 years."),
        Item(5, "Interstellar", 2014, ("Sci-Fi",), (), "Explorers travel through space."),
        Item(6, "Spotlight", 2015, ("Drama",), (), "Reporters uncover abuse."),
        Item(7, "Cold Mountain", 2003, ("Drama",), (), "A soldier walks home."),
    ]
)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("space movies", ["space"]),
        ("something fun and light", ["fun", "light"]),
        ("old", ["old"]),
        ("Lights, the 90s", ["light", "90s"]),
    ],
)
def test_request_words_are_stemmed_content_words(text: str, words: list[str]) -> None:
    assert request_words(text) == words


@pytest.mark.parametrize(
    ("text", "item_id", "echo"),
    [
        ("space movies", 1, 1.0),  # "Office Space" is not about space
        ("space movies", 2, 0.0),  # tagged "space"
        ("space movies", 5, 0.0),  # not in the title
        ("something fun and light", 3, 1 / np.sqrt(2)),  # "lights" echoes "light"
        ("for my old man", 4, 1 / np.sqrt(2)),  # "Oldboy" starts with "old"
        ("light", 6, 1.0),  # a compound ends with it
        ("old", 7, 0.0),  # too short to be a compound's end
        ("space", 99, 0.0),  # unknown items are data
    ],
)
def test_echo_is_a_title_word_the_rest_of_the_item_lacks(
    text: str, item_id: int, echo: float
) -> None:
    assert TitleEcho(CATALOG).share(item_id, request_words(text)) == pytest.approx(echo)


class _Embedder:
    model_name, dim = "fake", 2

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0]] * len(texts), dtype=np.float32)


def test_text_search_puts_a_title_echo_behind_a_film_about_it() -> None:
    """Office Space is a little closer to "space" than Interstellar, as a title match can be."""
    vectors = np.array([[0.9, 0.44], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.86, 0.51]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex.build(np.arange(1, 6), vectors.astype(np.float32), model_name="fake")
    retriever = Retriever(CATALOG, index, _Embedder(), genre_weight=0.0)
    hits = retriever.by_text("space", 2)
    assert [hit.item_id for hit in hits] == [5, 1]
    assert hits[1].score == pytest.approx(0.9 / np.hypot(0.9, 0.44) - ECHO_PENALTY, abs=1e-5)
