"""Years the person rules out ("a comedy that isn't from the 90s") are never shown, and come
back when the person allows them again; the window survives the checkpointer (strict msgpack)."""

from __future__ import annotations

from agent.recommender import Recommender


def _years(recommender: Recommender, reply: object) -> list[int | None]:
    catalog = recommender.deps.tools.catalog
    return [catalog.get(r.item_id).year for r in reply.recommendations]  # type: ignore[attr-defined]


def test_a_negated_decade_is_never_shown(recommender: Recommender) -> None:
    reply = recommender.reply("something that isn't from the 90s", thread_id="ny")
    years = _years(recommender, reply)
    assert years, reply.reply
    assert all(year is not None and not 1990 <= year <= 1999 for year in years)
    assert "not from the 1990s" in reply.reply
    # the next turn reads the exclusion back from the checkpoint and keeps it
    later = recommender.reply("something lighter", thread_id="ny")
    assert all(year is not None and not 1990 <= year <= 1999 for year in _years(recommender, later))


def test_years_allowed_again_come_back(recommender: Recommender) -> None:
    catalog = recommender.deps.tools.catalog
    nineties = sum(1 for item in catalog if item.year is not None and 1990 <= item.year <= 1999)
    assert nineties >= 3  # the fixture catalog has 90s films to bring back
    recommender.reply("anything, just not from the 90s", thread_id="back")
    reply = recommender.reply("ok, the 90s are fine after all", thread_id="back")
    assert reply.recommendations
    prefs = recommender.graph.get_state(recommender._config("back")).values["preferences"]
    assert prefs is not None and prefs.exclude_years == []
