"""Simulated sessions seeded from real conversations (ReDial): is the simulator's verdict the
verdict real people give?

Each conversation gives one session: the user opens with the seeker's real first turn (when it
passes the same leak guard as any message) and holds as its hidden film one the seeker liked and
did not name in that turn; it then goes on as the cooperative rule-based user. The recommender
knows nothing else about them (no history, the "0" bucket). The report's ranking of agent,
one-shot and popularity is then compared with the dialogue benchmark's ranking of the same
kinds of system (``recbot eval --dialogues``).
"""

from __future__ import annotations

import random
from pathlib import Path

from catalog.domain import Catalog
from catalog.redial import Dialogue, load_dialogues
from simulations.types import Target

DIALOGUE_USER_BASE = -1_000_000  # dialogue users get negative ids, never a MovieLens user's


def dialogue_targets(
    directory: Path | str, catalog: Catalog, *, count: int, seed: int
) -> list[Target]:
    """``count`` sessions from seeded conversations of ``directory``: the first seeker turn as
    the opening and a liked film the seeker did not name in it as the target."""
    data = load_dialogues(directory, catalog_ids=[item.id for item in catalog])
    rng = random.Random(seed)
    dialogues = list(data.dialogues)
    rng.shuffle(dialogues)
    targets = []
    for number, dialogue in enumerate(dialogues):
        target = _target(dialogue, catalog, rng, DIALOGUE_USER_BASE - number)
        if target is not None:
            targets.append(target)
        if len(targets) == count:
            break
    return targets


def _target(dialogue: Dialogue, catalog: Catalog, rng: random.Random, user: int) -> Target | None:
    first = next((turn for turn in dialogue.turns if turn.role == "user"), None)
    if first is None or not first.text.strip():
        return None
    liked = sorted(i for i in dialogue.seeker_liked if i in catalog and i not in first.mentions)
    if not liked:
        return None
    item = rng.choice(liked)
    return Target(
        user_id=user,
        item_id=item,
        title=catalog.get(item).display_title,
        opening=first.text,
        source=f"redial:{dialogue.id}",
    )
