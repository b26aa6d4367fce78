"""What real conversations teach: which movies people recommend, and which follow which mentions.

Fitted from dialogue samples (context mentions → the movies a human recommender then named),
e.g. ReDial's, and later from recbot's own logged conversations in the same shape. Three signals:

- **recommended**: how often each item is recommended in conversations (a prior over what people
  talk about, which MovieLens' rating counts over three decades do not capture);
- **follows**: how often item *b* is recommended after item *a* was mentioned, normalised by how
  often *a* is mentioned (``count(a → b) / (mentions(a) + shrink)``);
- **talked together**: how often *a* and *b* are named in the same conversation, by either side
  and in either order, as a cosine (``together(a, b) / sqrt((talks(a) + shrink)(talks(b) +
  shrink))``). Every pair of a conversation counts, not only mention → recommendation, so this
  item-item association gets several times the evidence of ``follows`` from the same
  conversations; it is what lets each movie a person names pull its companions up.

Counts only, so a 5-fold cross-validation refits in milliseconds. Saved as JSON.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

SHRINK = 2.0  # pseudo-mentions: one co-occurrence after a rare mention is weak evidence
FORMAT = "recbot-conversation-1"
CONVERSATION_FILE = "conversation.json"  # in the build's artifacts directory


@dataclass(frozen=True)
class ConversationExample:
    """One recommendation in a conversation: what had been mentioned, what was recommended."""

    mentioned: tuple[int, ...]
    targets: tuple[int, ...]
    conversation: str = ""  # the conversation it belongs to ("" = a conversation of its own)


@dataclass
class ConversationModel:
    recommended: Counter[int] = field(default_factory=Counter)
    mentions: Counter[int] = field(default_factory=Counter)
    follows: dict[int, Counter[int]] = field(default_factory=dict)
    examples: int = 0
    shrink: float = SHRINK
    weights: dict[str, float] = field(default_factory=dict)  # learned signal weights (cold path)
    talks: Counter[int] = field(default_factory=Counter)  # conversations naming each item
    together: dict[int, Counter[int]] = field(default_factory=dict)  # pairs named in one

    @classmethod
    def fit(
        cls, examples: Iterable[ConversationExample], shrink: float = SHRINK
    ) -> ConversationModel:
        recommended: Counter[int] = Counter()
        mentions: Counter[int] = Counter()
        follows: defaultdict[int, Counter[int]] = defaultdict(Counter)
        named: dict[str, set[int]] = {}  # conversation → every item it names
        n = 0
        for example in examples:
            n += 1
            mentioned = set(example.mentioned)
            recommended.update(example.targets)
            mentions.update(mentioned)
            for a in mentioned:
                follows[a].update(t for t in example.targets if t != a)
            key = example.conversation or f"#{n}"
            named.setdefault(key, set()).update(mentioned, example.targets)
        talks, together = co_mentions(named.values())
        return cls(recommended, mentions, dict(follows), n, shrink, {}, talks, together)

    def with_weights(self, weights: dict[str, float]) -> ConversationModel:
        return replace(self, weights=weights)

    def __bool__(self) -> bool:
        return self.examples > 0

    def popularity(self, candidates: Sequence[int]) -> np.ndarray:
        """log(1 + times recommended) per candidate (0 for items never recommended)."""
        return np.log1p(
            np.array([self.recommended.get(i, 0) for i in candidates], dtype=np.float64)
        )

    def follow_scores(self, mentioned: Sequence[int], candidates: Sequence[int]) -> np.ndarray:
        """Summed ``count(a → b) / (mentions(a) + shrink)`` over the mentioned items ``a``."""
        out = np.zeros(len(candidates), dtype=np.float64)
        if not mentioned:
            return out
        rows = [
            (self.follows[a], self.mentions.get(a, 0) + self.shrink)
            for a in set(mentioned)
            if a in self.follows
        ]
        for j, item in enumerate(candidates):
            out[j] = sum(counts.get(item, 0) / norm for counts, norm in rows)
        return out

    def together_scores(self, named: Sequence[int], candidates: Sequence[int]) -> np.ndarray:
        """Summed co-mention cosine of each candidate with the ``named`` items: every named item
        adds its own evidence, so a candidate that goes with several of them rises most."""
        out = np.zeros(len(candidates), dtype=np.float64)
        position = {item: j for j, item in enumerate(candidates)}
        for a in set(named):
            norm = self.talks.get(a, 0) + self.shrink
            for item, count in (self.together.get(a) or {}).items():
                j = position.get(item)
                if j is not None:
                    out[j] += count / np.sqrt(norm * (self.talks[item] + self.shrink))
        return out

    def top_recommended(self, n: int) -> list[int]:
        return [item for item, _ in self.recommended.most_common(n)]

    def top_following(self, mentioned: Sequence[int], n: int) -> list[int]:
        """Items most often recommended after ``mentioned``, best first."""
        pool: dict[int, float] = {}
        for a in set(mentioned):
            norm = self.mentions.get(a, 0) + self.shrink
            for item, count in (self.follows.get(a) or {}).items():
                pool[item] = pool.get(item, 0.0) + count / norm
        named = set(mentioned)
        ranked = sorted(pool.items(), key=lambda kv: (-kv[1], kv[0]))
        return [item for item, _ in ranked if item not in named][:n]

    def save(self, path: Path) -> None:
        payload = {
            "format": FORMAT,
            "examples": self.examples,
            "shrink": self.shrink,
            "recommended": {str(k): v for k, v in self.recommended.items()},
            "mentions": {str(k): v for k, v in self.mentions.items()},
            "follows": {
                str(a): {str(b): c for b, c in row.items()} for a, row in self.follows.items()
            },
            "weights": self.weights,
            "talks": {str(k): v for k, v in self.talks.items()},
            "together": {
                str(a): {str(b): c for b, c in row.items()} for a, row in self.together.items()
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, sort_keys=True))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> ConversationModel:
        """The saved model; an empty one when the file is missing or of another format."""
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls()
        if payload.get("format") != FORMAT:
            return cls()
        return cls(
            _counter(payload["recommended"]),
            _counter(payload["mentions"]),
            _pairs(payload["follows"]),
            int(payload["examples"]),
            float(payload["shrink"]),
            {str(k): float(v) for k, v in (payload.get("weights") or {}).items()},
            # files written before co-mentions were kept: no evidence, the signal stays 0
            _counter(payload.get("talks") or {}),
            _pairs(payload.get("together") or {}),
        )


def co_mentions(
    conversations: Iterable[Collection[int]],
) -> tuple[Counter[int], dict[int, Counter[int]]]:
    """How many conversations name each item, and each pair of items."""
    talks: Counter[int] = Counter()
    together: defaultdict[int, Counter[int]] = defaultdict(Counter)
    for items in conversations:
        talks.update(items)
        for a in items:
            together[a].update(b for b in items if b != a)
    return talks, dict(together)


def _counter(raw: dict[str, int]) -> Counter[int]:
    return Counter({int(k): int(v) for k, v in raw.items()})


def _pairs(raw: dict[str, dict[str, int]]) -> dict[int, Counter[int]]:
    return {int(a): _counter(row) for a, row in raw.items()}


@dataclass(frozen=True)
class Pool:
    """One recommendation turn's candidates: standardised signals and which were chosen."""

    signals: np.ndarray  # (n, S) standardised over the pool
    chosen: np.ndarray  # (n,) bool: the items the human recommender named


def fit_weights(
    pools: Sequence[Pool],
    names: Sequence[str],
    *,
    l2: float = 0.1,
    prior: dict[str, float] | None = None,
) -> dict[str, float]:
    """Signal weights maximising the likelihood of the chosen items among their pool.

    A conditional logit (a softmax over each pool, as in discrete-choice models and listwise
    learning to rank), with an L2 pull towards ``prior``; convex, so L-BFGS finds the optimum.
    Pools with nothing chosen teach nothing and are skipped.
    """
    from scipy.optimize import minimize

    usable = [p for p in pools if p.chosen.any() and len(p.chosen) > 1]
    start = np.array([(prior or {}).get(name, 0.0) for name in names], dtype=np.float64)
    if not usable:
        return dict(zip(names, start.tolist(), strict=True))
    weight_of_pool = 1.0 / len(usable)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total = 0.5 * l2 * float(((w - start) ** 2).sum())
        grad = l2 * (w - start)
        for pool in usable:
            logits = pool.signals @ w  # (n,)
            top = logits.max()
            probs = np.exp(logits - top)
            norm = probs.sum()
            probs /= norm
            chosen = pool.signals[pool.chosen]  # (c, S)
            total += weight_of_pool * (np.log(norm) + top - float((chosen @ w).mean()))
            grad += weight_of_pool * (probs @ pool.signals - chosen.mean(axis=0))
        return total, grad

    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return {name: round(float(v), 4) for name, v in zip(names, result.x, strict=True)}
