"""The planner's cue tables name only the cue kinds the walk knows."""

from __future__ import annotations

from agent.planner.cues import (
    CUE_PHRASES,
    STATEMENT_CUE_KINDS,
    TITLE_CUE_KINDS,
    TRAILING_CUES,
    UNKNOWN_TITLE_CUE_KINDS,
)


def test_cue_tables_use_known_kinds() -> None:
    kinds = set(CUE_PHRASES)
    assert set(TRAILING_CUES.values()) <= kinds
    assert {"neg", "dislike", "pos", "similar", "seen", "drop", "drop_all", "break"} <= kinds


def test_cue_kind_groups_use_known_kinds() -> None:
    for group in (TITLE_CUE_KINDS, UNKNOWN_TITLE_CUE_KINDS, STATEMENT_CUE_KINDS):
        assert group <= set(CUE_PHRASES)
