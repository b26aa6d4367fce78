"""One error tree for recbot, raised deep and translated to a friendly message only at the edges.

Every error carries a message written for the person who will read it at the CLI or in the chat,
so edges can print ``str(error)`` as it is. Modelled on encode/httpx's ``_exceptions.py``.
"""

from __future__ import annotations


class RecbotError(Exception):
    """Base of every error recbot raises on purpose."""


class ConfigurationError(RecbotError):
    """A setting is missing or contradicts another one."""


class DataError(RecbotError):
    """Catalog input data cannot be read."""


class MalformedRowError(DataError):
    """A row of an input file is malformed; names the file and the 1-based line."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}, line {line}: {reason}")


class DownloadError(DataError):
    """The default catalog could not be fetched or failed verification."""


class StoreError(RecbotError):
    """The app database cannot be opened, written or read (missing, locked, wrong schema)."""


class ArtifactError(RecbotError):
    """A built artifact (embeddings, index, manifest) is missing or does not match its sidecar."""


class IndexMismatchError(ArtifactError):
    """A FAISS index was built with another model, dimension or metric than the one asked for."""


class UnknownItemError(RecbotError, KeyError):
    """An item id is not in the catalog."""

    def __init__(self, item_id: int) -> None:
        self.item_id = item_id
        super().__init__(f"item {item_id} is not in the catalog")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class RequestError(RecbotError):
    """A request (``recbot ask`` JSON) cannot be read, is malformed or exceeds a limit."""


class NotYourConversation(RecbotError):
    """A conversation (thread) id that belongs to another person was used to read or continue it."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        super().__init__(
            "This conversation belongs to someone else, so it cannot be opened here. "
            "Start a new conversation instead."
        )


class UnknownPersonError(RecbotError):
    """No account, conversation or feedback is stored for the person named (``recbot forget``)."""
