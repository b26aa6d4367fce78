"""What the tools need at run time, injected by the caller and hidden from tool schemas."""

from __future__ import annotations

from catalog.domain import Catalog
from catalog.search import Retriever
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
    ) -> None:
        self.catalog = catalog
        self.retriever = retriever
        self.scorer = scorer
        self.reranker = reranker
        ranked = sorted(catalog, key=lambda item: (-item.popularity, item.id))
        self.popular = [item.id for item in ranked]  # most popular first
