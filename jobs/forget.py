"""``recbot forget --user ID``: delete what recbot keeps about one person.

That is: the agent's memory of every conversation they own (its checkpoints and owner row),
their 👍 / 👎 / seen feedback, their account (sign-in identifier → user id) and, through the
``erase_chat_history`` callback the caller passes (the web app's data layer lives above this
layer), their chat history: threads, messages, cards, feedback and chat-user rows.

The LLM prompt cache (``agent/llm_cache.py``) is not touched: it keys answers by a hash of the
model settings and prompt, stores neither a user id nor the prompt text, so nothing in it can
be told to be anyone's. The catalog's own ratings (the data set recbot was built from) stay too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from agent.ownership import ThreadOwners
from agent.persistence import AccountRow, FeedbackBase, FeedbackRow, catalog_user_id
from agent.settings import Settings
from catalog.errors import UnknownPersonError
from catalog.store import Store

ChatHistoryEraser = Callable[[list[str]], dict[str, int]]  # identifiers → counts deleted


@dataclass
class Forgotten:
    """Who was forgotten and how many of each kind of record went."""

    user_id: int | None
    identifiers: list[str]
    counts: dict[str, int] = field(default_factory=dict)


def identity(who: str, store: Store) -> tuple[int | None, list[str]]:
    """The user id and sign-in identifiers ``who`` names: a sign-in identifier first (a login
    may be spelled in digits), else a numeric user id, else an identifier with no account."""
    who = who.strip()
    by_name = select(AccountRow.user_id).where(AccountRow.identifier == who)
    with store.guard("read from"), Session(store.engine) as session:
        user_id = session.scalars(by_name).first()
        if user_id is None:
            user_id = catalog_user_id(who)
        if user_id is None:
            return None, [who]
        by_id = select(AccountRow.identifier).where(AccountRow.user_id == user_id)
        return user_id, list(session.scalars(by_id))


def forget(
    settings: Settings, who: str, *, erase_chat_history: ChatHistoryEraser | None = None
) -> Forgotten:
    """``forget_person`` on the configured app database and conversation memory."""
    from agent.pg_checkpoints import checkpointer, close

    store = Store(settings.resolved_database_url, create=False)
    saver = checkpointer(settings)
    try:
        return forget_person(
            who, store=store, checkpointer=saver, erase_chat_history=erase_chat_history
        )
    finally:
        close(saver)


def forget_person(
    who: str,
    *,
    store: Store,
    checkpointer: Any,
    erase_chat_history: ChatHistoryEraser | None = None,
) -> Forgotten:
    """Delete everything kept about ``who`` (a user id or a sign-in identifier); raise
    UnknownPersonError when nothing at all was kept about them."""
    with store.guard("create the accounts table in"):
        FeedbackBase.metadata.create_all(store.engine)  # a home nobody has chatted in yet
    user_id, identifiers = identity(who, store)
    gone = Forgotten(user_id, identifiers)
    owners = ThreadOwners(store)
    threads = owners.threads_of(user_id) if user_id is not None else []
    for thread_id in threads:
        checkpointer.delete_thread(thread_id)
        owners.release(thread_id)
    gone.counts["conversations"] = len(threads)
    gone.counts.update(_delete_rows(store, user_id, identifiers))
    if erase_chat_history is not None and identifiers:
        gone.counts.update(erase_chat_history(identifiers))
    if not any(gone.counts.values()):
        raise UnknownPersonError(
            f"Nobody is known as {who.strip()!r}: no account, conversation or feedback of "
            "theirs is stored."
        )
    return gone


def _delete_rows(store: Store, user_id: int | None, identifiers: list[str]) -> dict[str, int]:
    theirs = AccountRow.identifier.in_(identifiers)
    accounts = delete(AccountRow).where(
        theirs if user_id is None else or_(theirs, AccountRow.user_id == user_id)
    )
    with store.guard("write to"), store.engine.begin() as connection:
        feedback = 0
        if user_id is not None:
            query = delete(FeedbackRow).where(FeedbackRow.user_id == user_id)
            feedback = connection.execute(query).rowcount
        return {"feedback": feedback, "accounts": connection.execute(accounts).rowcount}
