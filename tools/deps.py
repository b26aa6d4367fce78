"""What the tools need at run time, injected by the caller and hidden from tool schemas."""

from __future__ import annotations

import copy

from catalog.domain import Catalog
from catalog.search import Retriever
from ranker.baselines import ItemKNNScorer
from ranker.conversation import ConversationModel
from ranker.types import Scorer
from tools.reranker import Reranker  # at run time: tool schemas resolve this annotation


class ToolDeps:
    """The catalog, retriever, ranker and optional LLM reranker the tools work with.

    A plain class, not a dataclass: tool argument schemas only check its type, they do not try
    to validate its fields.
    """

    def __init__(
        self,
        catalog: Catalog,
        retriever: Retriever,
        scorer: Scorer,
        reranker: Reranker | None = None,
        conversation: ConversationModel | None = None,
        neighbours: ItemKNNScorer | None = None,
        trending: dict[int, int] | None = None,
    ) -> None:
        self.catalog = catalog
        self.retriever = retriever
        self.scorer = scorer
        self.reranker = reranker
        # what real conversations taught (ranker/conversation.py); empty when none was trained
        self.conversation = conversation if conversation is not None else ConversationModel()
        # "people who liked X also watched Y" (ranker/neighbours.py), and recent interaction counts
        self.neighbours = neighbours
        self.trending = trending or {}
        ranked = sorted(catalog, key=lambda item: (-item.popularity, item.id))
        self.popular = [item.id for item in ranked]  # most popular first

    def with_conversation(self, conversation: ConversationModel) -> ToolDeps:
        """The same tools over another conversation model (cross-validation folds)."""
        other = copy.copy(self)
        other.conversation = conversation
        return other
