"""Real recommendation dialogues (ReDial) as samples: context turns, then the movies a person chose.

ReDial (Li et al., NeurIPS 2018, CC BY 4.0) pairs a *seeker* with a human *recommender*; movies
are written ``@<redialId>`` in the text. A directory holds ``dialogues.jsonl``,
``movies_with_mentions.csv`` (ReDial's titles) and ``redial_to_ml_latest_small.csv`` (ReDial id →
catalog id). The standard protocol (KBRD, KGSF, UniCRS): every recommender turn (consecutive
messages of one sender merged) that names a movie not mentioned earlier in the conversation, and
in the catalog, is a sample; its context is every earlier turn, its targets those movies.

This module only reads and shapes the data; what learns from it lives in ``ranker.conversation``
and what is judged on it in ``jobs.dialogues``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from catalog.errors import DataError

DIALOGUES_FILE = "dialogues.jsonl"
TITLES_FILE = "movies_with_mentions.csv"
MAP_FILE = "redial_to_ml_latest_small.csv"
_MENTION = re.compile(r"@(\d+)")

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    """One speaker's consecutive messages: the seeker is ``user``, the recommender ``assistant``."""

    role: Role
    text: str  # ``@id`` written out as "Title (Year)"
    mentions: tuple[int, ...] = ()  # catalog ids named in this turn, in order


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: tuple[Turn, ...]
    # catalog ids the seeker said they liked / disliked (ReDial's questionnaires)
    seeker_liked: frozenset[int] = field(default_factory=frozenset)
    seeker_disliked: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class DialogueSample:
    """What a recommender knew (``context``) and what the human recommender then named."""

    dialogue_id: str
    position: int  # index of the recommender turn in the dialogue
    context: tuple[Turn, ...]
    targets: tuple[int, ...]

    @property
    def mentioned(self) -> tuple[int, ...]:
        """Catalog ids named anywhere in the context, first mention first."""
        return tuple(dict.fromkeys(i for turn in self.context for i in turn.mentions))

    @property
    def seeker_mentioned(self) -> tuple[int, ...]:
        return tuple(
            dict.fromkeys(i for turn in self.context if turn.role == "user" for i in turn.mentions)
        )


@dataclass(frozen=True)
class RedialData:
    dialogues: tuple[Dialogue, ...]
    unmapped_mentions: int  # @ids with no catalog id (their title stays in the text)
    mapped_mentions: int


def _clean_title(title: str) -> str:
    return re.sub(r"\s+", " ", title).strip().replace(" )", ")")


def _read_titles(directory: Path) -> dict[str, str]:
    path = directory / TITLES_FILE
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["movieId"]: _clean_title(row["movieName"]) for row in csv.DictReader(handle)}


def _read_map(directory: Path, catalog_ids: set[int] | None) -> dict[str, int]:
    path = directory / MAP_FILE
    if not path.exists():
        raise DataError(f"The dialogue folder has no {MAP_FILE} (ReDial id to catalog id).")
    out: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            item = int(row["movieId"])
            if catalog_ids is None or item in catalog_ids:
                out[row["redialId"]] = item
    return out


def load_dialogues(directory: Path | str, catalog_ids: Iterable[int] | None = None) -> RedialData:
    """Every conversation of ``directory`` with mentions mapped to catalog ids.

    ``catalog_ids`` limits the map to items the catalog has (others keep their title in the text
    but are not mentions). Raises :class:`DataError` when the folder lacks the files.
    """
    directory = Path(directory)
    path = directory / DIALOGUES_FILE
    if not path.exists():
        raise DataError(
            f"No {DIALOGUES_FILE} in the dialogue folder; point RECBOT_DIALOGUES_DIR at a "
            "ReDial-format directory."
        )
    titles = _read_titles(directory)
    mapping = _read_map(directory, set(catalog_ids) if catalog_ids is not None else None)
    dialogues: list[Dialogue] = []
    counts = [0, 0]  # mapped, unmapped
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                dialogues.append(_dialogue(raw, titles, mapping, counts))
            except (ValueError, KeyError, TypeError) as error:
                raise DataError(f"{path.name} line {line_no} is not a ReDial dialogue.") from error
    return RedialData(tuple(dialogues), unmapped_mentions=counts[1], mapped_mentions=counts[0])


def _dialogue(
    raw: dict, titles: dict[str, str], mapping: dict[str, int], counts: list[int]
) -> Dialogue:
    names = {k: _clean_title(v) for k, v in (raw.get("movieMentions") or {}).items() if v}
    seeker = raw["initiatorWorkerId"]
    turns: list[Turn] = []
    for message in raw["messages"]:
        role: Role = "user" if message["senderWorkerId"] == seeker else "assistant"
        text, mentions = _render(str(message.get("text", "")), titles, names, mapping, counts)
        if turns and turns[-1].role == role:
            last = turns[-1]
            turns[-1] = Turn(role, f"{last.text} {text}".strip(), _merge(last.mentions, mentions))
        else:
            turns.append(Turn(role, text, mentions))
    liked, disliked = _questionnaire(raw.get("initiatorQuestions") or {}, mapping)
    return Dialogue(str(raw["conversationId"]), tuple(turns), liked, disliked)


def _render(
    text: str,
    titles: dict[str, str],
    names: dict[str, str],
    mapping: dict[str, int],
    counts: list[int],
) -> tuple[str, tuple[int, ...]]:
    mentions: list[int] = []

    def title_of(match: re.Match[str]) -> str:
        redial_id = match.group(1)
        if redial_id in mapping:
            mentions.append(mapping[redial_id])
            counts[0] += 1
        else:
            counts[1] += 1
        return titles.get(redial_id) or names.get(redial_id) or "a movie"

    rendered = _MENTION.sub(title_of, text)
    return re.sub(r"\s+", " ", rendered).strip(), tuple(dict.fromkeys(mentions))


def _merge(first: Sequence[int], second: Sequence[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys([*first, *second]))


def _questionnaire(
    answers: dict[str, dict[str, int]], mapping: dict[str, int]
) -> tuple[frozenset[int], frozenset[int]]:
    liked, disliked = set(), set()
    for redial_id, answer in answers.items():
        if redial_id not in mapping or not isinstance(answer, dict):
            continue
        if answer.get("liked") == 1:
            liked.add(mapping[redial_id])
        elif answer.get("liked") == 0:
            disliked.add(mapping[redial_id])
    return frozenset(liked), frozenset(disliked)


def samples_of(dialogue: Dialogue) -> list[DialogueSample]:
    """The protocol's samples: recommender turns naming a movie new to the conversation."""
    out: list[DialogueSample] = []
    named: set[int] = set()
    for position, turn in enumerate(dialogue.turns):
        new = tuple(i for i in turn.mentions if i not in named)
        if turn.role == "assistant" and new and position > 0:
            out.append(DialogueSample(dialogue.id, position, dialogue.turns[:position], new))
        named.update(turn.mentions)
    return out


def all_samples(dialogues: Iterable[Dialogue]) -> list[DialogueSample]:
    return [sample for dialogue in dialogues for sample in samples_of(dialogue)]


def fold_of(dialogue_id: str, folds: int) -> int:
    """A conversation's cross-validation fold: stable, seedless, independent of file order."""
    digest = hashlib.sha256(dialogue_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % folds
