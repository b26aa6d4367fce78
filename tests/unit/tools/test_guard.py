"""The hallucination guard, table-driven: LLM output in, (kept, dropped, fell_back, filled) out."""

from __future__ import annotations

import json

import pytest

from tools.guard import GuardResult, guard_indices, parse_index_list

N = 5  # candidates numbered 1..5 for the LLM, positions 0..4 for the code


# (case id, raw LLM output, k, kept, dropped, fell_back, filled)
CASES = [
    ("json list", "[3, 1, 5]", 3, (2, 0, 4), (), False, 0),
    ("json list, short: rest filled", "[4]", 3, (3, 0, 1), (), False, 2),
    ("json list, longer than k", "[5, 4, 3, 2, 1]", 2, (4, 3), (), False, 0),
    ("all five", "[2, 1, 4, 3, 5]", 10, (1, 0, 3, 2, 4), (), False, 0),
    ("no spaces", "[2,1]", 2, (1, 0), (), False, 0),
    ("bare commas", "3, 1, 2", 3, (2, 0, 1), (), False, 0),
    ("bare spaces", "3 1 2", 3, (2, 0, 1), (), False, 0),
    ("bare newlines", "3\n1\n2\n", 3, (2, 0, 1), (), False, 0),
    ("single bare number", "4", 2, (3, 0), (), False, 1),
    ("ints as strings", '["3", "1"]', 2, (2, 0), (), False, 0),
    ("string with spaces", '[" 2 "]', 1, (1,), (), False, 0),
    ("whole floats", "[3.0, 1.0]", 2, (2, 0), (), False, 0),
    ("fractional float", "[3.5, 1]", 2, (0, 1), ("3.5: not a whole number",), False, 1),
    ("fractional string", '["2.5", "2"]', 1, (1,), ("'2.5': not a whole number",), False, 0),
    (
        "booleans",
        "[true, false, 2]",
        1,
        (1,),
        ("True: not an index", "False: not an index"),
        False,
        0,
    ),
    ("zero", "[0, 1]", 1, (0,), ("0: out of range",), False, 0),
    ("negative", "[-1, 2]", 1, (1,), ("-1: out of range",), False, 0),
    ("past the end", "[7, 2]", 2, (1, 0), ("7: out of range",), False, 1),
    ("duplicates", "[3, 3, 1, 3]", 3, (2, 0, 1), ("3: duplicate", "3: duplicate"), False, 1),
    ("duplicate via string", '[2, "2"]', 1, (1,), ("'2': duplicate",), False, 0),
    (
        "invented titles",
        '["Inception", 2, "The Godfather"]',
        2,
        (1, 0),
        ("'Inception': not an index", "'The Godfather': not an index"),
        False,
        1,
    ),
    ("nested list", "[[1, 2], 3]", 1, (2,), ("[1, 2]: not an index",), False, 0),
    ("null item", "[null, 1]", 1, (0,), ("None: not an index",), False, 0),
    ("object item", '[{"index": 2}]', 1, (0,), ("{'index': 2}: not an index",), True, 1),
    ("object with ranking", '{"ranking": [2, 1]}', 2, (1, 0), (), False, 0),
    ("object with indices", '{"indices": [5]}', 1, (4,), (), False, 0),
    ("object, one list elsewhere", '{"best_first": [4, 2]}', 2, (3, 1), (), False, 0),
    ("code fence", "```json\n[2, 5]\n```", 2, (1, 4), (), False, 0),
    ("code fence without language", "```\n[1]\n```", 1, (0,), (), False, 0),
    ("prose with a list", "Sure! My ranking is [4, 2, 1]. Enjoy.", 3, (3, 1, 0), (), False, 0),
    (
        "prose, list of titles and numbers",
        "Here you go: [Inception, 3, 1]",
        2,
        (2, 0),
        ("'Inception': not an index",),
        False,
        0,
    ),
    (
        "prose, first list without numbers",
        "I liked [Heat]; ranking: [2, 1]",
        2,
        (1, 0),
        (),
        False,
        0,
    ),
    ("json string holding a list", '"[2, 1]"', 2, (1, 0), (), False, 0),
    (
        "out of range only",
        "[6, 9, 0]",
        2,
        (0, 1),
        ("6: out of range", "9: out of range", "0: out of range"),
        True,
        2,
    ),
    (
        "titles only",
        '["Heat", "Alien"]',
        2,
        (0, 1),
        ("'Heat': not an index", "'Alien': not an index"),
        True,
        2,
    ),
    ("empty list", "[]", 3, (0, 1, 2), (), True, 3),
    ("empty text", "", 3, (0, 1, 2), (), True, 3),
    ("whitespace", "  \n", 2, (0, 1), (), True, 2),
    (
        "prose without a list",
        "I think Heat fits best.",
        2,
        (0, 1),
        ("'I think Heat fits best.': no list of candidate numbers",),
        True,
        2,
    ),
    (
        "numbered lines are not trusted",
        "1. Heat\n2. Alien",
        1,
        (0,),
        ("'1. Heat 2. Alien': no list of candidate numbers",),
        True,
        1,
    ),
    (
        "object without a list",
        '{"best": 2}',
        1,
        (0,),
        ("'{\"best\": 2}': no list of candidate numbers",),
        True,
        1,
    ),
    ("k zero", "[2, 1]", 0, (), (), False, 0),
]


@pytest.mark.parametrize(
    ("raw", "k", "kept", "dropped", "fell_back", "filled"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_guard_text(
    raw: str, k: int, kept: tuple, dropped: tuple, fell_back: bool, filled: int
) -> None:
    assert guard_indices(raw, N, k=k) == GuardResult(kept, dropped, fell_back, filled)


# already-parsed or failed answers: (case id, raw, k, kept, dropped, fell_back, filled)
VALUE_CASES = [
    ("none: call failed", None, 3, (0, 1, 2), (), True, 3),
    ("timeout", TimeoutError("read timed out"), 2, (0, 1), (), True, 2),
    ("http error", RuntimeError("500"), 5, (0, 1, 2, 3, 4), (), True, 5),
    ("python list", [2, 1], 2, (1, 0), (), False, 0),
    ("python tuple", (5, "1"), 2, (4, 0), (), False, 0),
    ("python dict", {"ranking": [3]}, 1, (2,), (), False, 0),
    ("bare int", 2, 1, (1,), (), False, 0),
    ("bare bool", True, 1, (0,), ("True: no list of candidate numbers",), True, 1),
    ("an object", object, 1, (0,), ("<class 'object'>: no list of candidate numbers",), True, 1),
]


@pytest.mark.parametrize(
    ("raw", "k", "kept", "dropped", "fell_back", "filled"),
    [case[1:] for case in VALUE_CASES],
    ids=[case[0] for case in VALUE_CASES],
)
def test_guard_values(
    raw: object, k: int, kept: tuple, dropped: tuple, fell_back: bool, filled: int
) -> None:
    assert guard_indices(raw, N, k=k) == GuardResult(kept, dropped, fell_back, filled)


@pytest.mark.parametrize(
    ("n", "k", "expected"), [(0, 3, ()), (1, 3, (0,)), (3, 3, (2, 0, 1)), (10, 3, (2, 0, 1))]
)
def test_kept_length_is_min_of_k_and_n(n: int, k: int, expected: tuple) -> None:
    result = guard_indices("[3, 1]", n, k=k)
    assert result.kept == expected
    assert len(result.kept) == min(k, n)


def test_no_candidates_keeps_nothing_and_reports_the_numbers() -> None:
    assert guard_indices("[1]", 0, k=3) == GuardResult((), ("1: out of range",), True, 0)


@pytest.mark.parametrize(("n", "k"), [(-1, 1), (1, -1)])
def test_negative_sizes_are_a_programming_error(n: int, k: int) -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        guard_indices("[1]", n, k=k)


def test_long_garbage_is_reported_shortened() -> None:
    result = guard_indices("word " * 100, N, k=1)
    assert result.fell_back
    (reason,) = result.dropped
    assert len(reason) < 100 and reason.endswith("no list of candidate numbers")


def test_kept_is_always_a_valid_unique_order_whatever_comes_back() -> None:
    garbage = [
        "[9, 9, 2, 2, -3]",
        '{"ranking": ["x", 1.5, 4]}',
        "[Heat, 2]",
        "nope",
        "[]",
        "[1, 2, 3, 4, 5, 6]",
    ]
    for raw in garbage:
        for k in range(0, 7):
            kept = guard_indices(raw, N, k=k).kept
            assert len(kept) == min(k, N)
            assert len(set(kept)) == len(kept)
            assert all(0 <= position < N for position in kept)


# (case id, text, parsed)
PARSE_CASES = [
    ("json", "[1, 2]", [1, 2]),
    ("strings kept as parsed", '["1", "x"]', ["1", "x"]),
    ("bare", "1, 2 3", [1, 2, 3]),
    ("bare floats", "1.0 2.5", [1.0, 2.5]),
    ("trailing period", "2, 1.", [2, 1]),
    ("fence", '```json\n{"indices": [3]}\n```', [3]),
    ("prose", "ranking: [2, Heat]", ["2", "Heat"]),
    ("quoted pieces in prose", "ranking: ['2', \"Heat\"]", ["2", "Heat"]),
    ("empty", "", None),
    ("prose only", "Heat is great", None),
    ("number in prose is not a list", "I pick 3", None),
    ("object with two lists is ambiguous", '{"a": [1], "b": [2]}', None),
    ("json null", "null", None),
]


@pytest.mark.parametrize(
    ("text", "parsed"), [case[1:] for case in PARSE_CASES], ids=[case[0] for case in PARSE_CASES]
)
def test_parse_index_list(text: str, parsed: list[object] | None) -> None:
    assert parse_index_list(text) == parsed


def test_parse_accepts_whatever_json_dumps_writes() -> None:
    assert parse_index_list(json.dumps({"ranking": [5, 4]})) == [5, 4]
