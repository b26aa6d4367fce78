"""Loaders on tiny generated MovieLens folders and generic catalogs: values, bad rows, detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.errors import DataError, MalformedRowError
from catalog.loaders import (
    MAX_PROBLEMS,
    LoadReport,
    load_directory,
    load_generic,
    load_movielens,
)

MOVIES = """\
movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children
2,"American President, The (1995)",Comedy|Drama|Romance
3,Untitled Project,(no genres listed)
"""
RATINGS = """\
userId,movieId,rating,timestamp
1,1,4.0,964982703
2,1,5.0,964982704
1,2,3.5,964982705
"""
TAGS = """\
userId,movieId,tag,timestamp
1,1,Pixar,1
2,1, pixar ,2
1,1,toys,3
3,1,Fun,4
4,1,fun,5
5,1,animation,6
1,2,politics,7
"""
OVERVIEWS = """\
movieId,overview
1,"A cowboy doll is threatened by a new spaceman toy, in a boy's bedroom."
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def movielens_dir(tmp_path: Path, **overrides: str | None) -> Path:
    """A MovieLens folder; pass ``tags=None`` to leave a file out or a string to replace it."""
    files = {"movies": MOVIES, "ratings": RATINGS, "tags": TAGS, "overviews": OVERVIEWS}
    files.update(overrides)
    directory = tmp_path / "ml"
    for name, text in files.items():
        if text is not None:
            write(directory / f"{name}.csv", text)
    return directory


# --- MovieLens happy path ----------------------------------------------------------------------


def test_movielens_items_have_split_titles_genres_popularity_ratings_tags_and_overviews(tmp_path):
    data = load_movielens(movielens_dir(tmp_path))

    toy_story, president, untitled = data.catalog.items
    assert (toy_story.title, toy_story.year) == ("Toy Story", 1995)
    assert toy_story.genres == ("Adventure", "Animation", "Children")
    assert (toy_story.popularity, toy_story.mean_rating) == (2, 4.5)
    assert toy_story.tags == ("fun", "pixar", "animation", "toys")  # by count, ties alphabetical
    assert toy_story.overview.startswith("A cowboy doll is threatened by a new spaceman toy, in")
    assert (president.title, president.year, president.tags) == (
        "American President, The",
        1995,
        ("politics",),
    )
    assert (untitled.title, untitled.year, untitled.genres) == ("Untitled Project", None, ())
    assert (untitled.popularity, untitled.mean_rating, untitled.overview) == (0, None, "")


def test_movielens_interactions_sources_format_and_report(tmp_path):
    directory = movielens_dir(tmp_path)
    data = load_movielens(directory)

    assert [(i.user_id, i.item_id, i.rating, i.timestamp) for i in data.interactions] == [
        (1, 1, 4.0, 964982703),
        (2, 1, 5.0, 964982704),
        (1, 2, 3.5, 964982705),
    ]
    names = ["movies.csv", "ratings.csv", "tags.csv", "overviews.csv"]
    assert data.source_files == [directory / name for name in names]
    assert data.format == "movielens"
    assert data.report.rows_read == {
        "movies.csv": 3,
        "ratings.csv": 3,
        "tags.csv": 7,
        "overviews.csv": 1,
    }
    assert data.report.skipped_total == 0
    assert "ratings.csv: 3 rows read, 0 skipped" in data.report.summary()


def test_max_tags_keeps_the_most_frequent(tmp_path):
    data = load_movielens(movielens_dir(tmp_path), max_tags=2)
    assert data.catalog.get(1).tags == ("fun", "pixar")
    with pytest.raises(ValueError):
        load_movielens(movielens_dir(tmp_path), max_tags=-1)


def test_tags_and_overviews_are_optional(tmp_path):
    directory = movielens_dir(tmp_path, tags=None, overviews=None)
    data = load_movielens(directory)
    assert data.catalog.get(1).tags == ()
    assert data.catalog.get(1).overview == ""
    assert data.source_files == [directory / "movies.csv", directory / "ratings.csv"]


def test_bom_crlf_and_blank_lines_are_tolerated(tmp_path):
    movies = MOVIES.replace("\n", "\r\n").replace("1,Toy", "\r\n1,Toy") + "\r\n\r\n"
    directory = movielens_dir(tmp_path, movies=movies)
    write(directory / "movies.csv", movies, encoding="utf-8-sig")

    data = load_movielens(directory, strict=True)

    assert len(data.catalog) == 3
    assert data.report.rows_read["movies.csv"] == 3


# --- bad rows -----------------------------------------------------------------------------------

BAD_ROWS = [
    # (file, bad row written at line 3, reason counted in the report)
    ("movies", "x7,Heat (1995),Action", "non-integer id"),
    ("movies", "-4,Heat (1995),Action", "id out of range"),
    ("movies", "4,   ,Action", "empty title"),
    ("movies", "1,Toy Story again (1995),Comedy", "duplicate item id"),
    ("movies", "4,Heat (1995)", "wrong number of fields"),
    ("movies", "4,Heat,(1995),Action", "wrong number of fields"),
    ("ratings", "1,1,four,964982703", "non-numeric rating"),
    ("ratings", "1,1,nan,964982703", "non-numeric rating"),
    ("ratings", "1,1,,964982703", "non-numeric rating"),
    ("ratings", "1,99,4.0,964982703", "unknown item"),
    ("ratings", "u1,1,4.0,964982703", "non-integer user id"),
    ("ratings", "1,1.5,4.0,964982703", "non-integer item id"),
    ("ratings", "1,1,4.0,yesterday", "non-integer timestamp"),
    ("tags", "1,99,scary,1", "unknown item"),
    ("tags", "1,1,   ,1", "empty tag"),
    ("overviews", "99,A film nobody has.", "unknown item"),
    ("overviews", "1,Another overview.", "duplicate overview"),
]
GOOD_SECOND_LINE = {
    "movies": "1,Toy Story (1995),Animation",
    "ratings": "2,1,5.0,964982704",
    "tags": "1,1,pixar,1",
    "overviews": "1,A cowboy doll.",
}
HEADERS = {name: text.splitlines()[0] for name, text in [("movies", MOVIES), ("ratings", RATINGS),
           ("tags", TAGS), ("overviews", OVERVIEWS)]}  # fmt: skip


def bad_file(name: str, bad_row: str) -> str:
    """The file with a good row at line 2 and ``bad_row`` at line 3; movies.csv keeps item 2
    after it so the other files stay valid."""
    tail = '2,"American President, The (1995)",Comedy\n' if name == "movies" else ""
    return f"{HEADERS[name]}\n{GOOD_SECOND_LINE[name]}\n{bad_row}\n{tail}"


@pytest.mark.parametrize(("name", "bad_row", "reason"), BAD_ROWS)
def test_bad_row_is_skipped_and_counted_by_reason(tmp_path, name, bad_row, reason):
    data = load_movielens(movielens_dir(tmp_path, **{name: bad_file(name, bad_row)}))

    assert data.report.rows_read[f"{name}.csv"] == (3 if name == "movies" else 2)
    assert data.report.rows_skipped[f"{name}.csv"] == {reason: 1}
    assert data.report.skipped_total == 1
    assert data.report.problems[0].startswith(f"{name}.csv, line 3: {reason}")
    assert f"({reason}: 1)" in data.report.summary()


@pytest.mark.parametrize(("name", "bad_row", "reason"), BAD_ROWS)
def test_bad_row_raises_with_file_and_line_when_strict(tmp_path, name, bad_row, reason):
    directory = movielens_dir(tmp_path, **{name: bad_file(name, bad_row)})
    with pytest.raises(MalformedRowError) as caught:
        load_movielens(directory, strict=True)

    assert caught.value.path == str(directory / f"{name}.csv")
    assert caught.value.line == 3
    assert caught.value.reason.startswith(reason)
    assert str(caught.value).startswith(f"{directory / name}.csv, line 3: {reason}")


def test_line_numbers_count_physical_lines_across_quoted_newlines_and_blanks(tmp_path):
    overviews = 'movieId,overview\n1,"First line\nsecond line"\n\n99,orphan\n'
    directory = movielens_dir(tmp_path, overviews=overviews)
    with pytest.raises(MalformedRowError, match=r"overviews\.csv, line 5: unknown item: 99"):
        load_movielens(directory, strict=True)
    assert load_movielens(directory).catalog.get(1).overview == "First line\nsecond line"


def test_problem_messages_are_capped_but_counts_are_not(tmp_path):
    ratings = RATINGS + "".join(f"1,{100 + n},4.0,1\n" for n in range(MAX_PROBLEMS + 5))
    data = load_movielens(movielens_dir(tmp_path, ratings=ratings))

    assert data.report.rows_skipped["ratings.csv"] == {"unknown item": MAX_PROBLEMS + 5}
    assert len(data.report.problems) == MAX_PROBLEMS
    assert "... and 5 more" in data.report.summary()


# --- whole-file problems -----------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True])
def test_missing_columns_name_the_file_and_columns(tmp_path, strict):
    directory = movielens_dir(tmp_path, ratings="userId,movieId,stars\n1,1,4.0\n")
    with pytest.raises(DataError, match=r"ratings\.csv is missing required column\(s\) rating, "):
        load_movielens(directory, strict=strict)


@pytest.mark.parametrize(
    ("movies", "message"),
    [
        ("", r"movies\.csv is empty"),
        ("\n\n", r"movies\.csv is empty"),
        ("movieId,title,genres\n", r"movies\.csv has no items"),
        ("movieId,title,genres\nx,Heat,Action\n", r"none of the 1 rows of .*movies\.csv"),
        ("movieId,movieId,title\n1,1,Heat\n", r"duplicated column\(s\) movieId"),
    ],
)
def test_unusable_items_file_is_an_error(tmp_path, movies, message):
    with pytest.raises(DataError, match=message):
        load_movielens(movielens_dir(tmp_path, movies=movies))


def test_interactions_that_all_fail_are_an_error(tmp_path):
    directory = movielens_dir(tmp_path, ratings="userId,movieId,rating,timestamp\n1,77,4.0,1\n")
    with pytest.raises(DataError, match=r"none of the 1 rows .*unknown item: 77"):
        load_movielens(directory)


def test_missing_ratings_and_unreadable_text_are_errors(tmp_path):
    with pytest.raises(DataError, match=r"ratings\.csv is missing"):
        load_movielens(movielens_dir(tmp_path, ratings=None))
    directory = movielens_dir(tmp_path / "latin1")
    (directory / "movies.csv").write_bytes("movieId,title\n1,Amélie (2001)\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"movies\.csv is not UTF-8"):
        load_movielens(directory)


def test_report_summary_of_an_empty_report():
    assert LoadReport().summary() == ""
    assert LoadReport().skipped_total == 0


# --- generic format -----------------------------------------------------------------------------

ITEMS_CSV = """\
id,title,year,genres,tags,overview,director
10,Heat,1995,Action|Crime,heist| Heist |la,Cops and robbers.,Mann
11,Matrix (1999),,Sci-Fi,,,Wachowski
12,Alien (1979),1979,,,,Scott
13,Her,,Romance,,,Jonze
"""
INTERACTIONS_CSV = """\
user_id,item_id,rating,timestamp
1,10,4.0,100
2,10,,
1,11,2.0,101
"""


def test_generic_csv_items_and_interactions(tmp_path):
    items = write(tmp_path / "items.csv", ITEMS_CSV)
    interactions = write(tmp_path / "interactions.csv", INTERACTIONS_CSV)
    data = load_generic(items, interactions, strict=True)

    heat, matrix, alien, her = data.catalog.items
    assert (heat.title, heat.year, heat.genres) == ("Heat", 1995, ("Action", "Crime"))
    assert (heat.tags, heat.overview) == (("heist", "la"), "Cops and robbers.")
    assert (matrix.title, matrix.year) == ("Matrix", 1999)  # no year field: split from title
    assert (alien.title, alien.year) == ("Alien", 1979)  # same year given twice: kept once
    assert (her.title, her.year, her.genres) == ("Her", None, ("Romance",))
    # ratings default to 1.0 and timestamps to 0, but only explicit ratings make the mean
    assert [(i.rating, i.timestamp) for i in data.interactions] == [
        (4.0, 100),
        (1.0, 0),
        (2.0, 101),
    ]
    assert (heat.popularity, heat.mean_rating) == (2, 4.0)
    assert (her.popularity, her.mean_rating) == (0, None)
    assert data.format == "generic"
    assert data.source_files == [items, interactions]


def test_generic_interactions_without_rating_or_timestamp_columns(tmp_path):
    items = write(tmp_path / "items.csv", "id,title\n1,Heat\n")
    interactions = write(tmp_path / "interactions.csv", "user_id,item_id\n5,1\n6,1\n")
    data = load_generic(items, interactions)
    assert [(i.user_id, i.rating, i.timestamp) for i in data.interactions] == [
        (5, 1.0, 0),
        (6, 1.0, 0),
    ]
    assert (data.catalog.get(1).popularity, data.catalog.get(1).mean_rating) == (2, None)


def test_generic_items_only(tmp_path):
    data = load_generic(write(tmp_path / "items.csv", "\ufeffid,title\n1,Heat\n"))
    assert data.interactions == []
    assert data.catalog.get(1).title == "Heat"


def jsonl(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def test_generic_jsonl_accepts_lists_strings_and_string_ids(tmp_path):
    items = write(
        tmp_path / "items.jsonl",
        jsonl(
            {"id": 1, "title": "Heat (1995)", "genres": ["Action", "Crime"], "tags": "heist|la"},
            "",
            {"id": "2", "title": "Her", "year": None, "genres": "Romance", "overview": "An OS."},
            {"id": 3, "title": "Alien", "year": "1979", "tags": ["space", "Space"]},
        ),
        encoding="utf-8-sig",
    )
    interactions = write(
        tmp_path / "interactions.jsonl",
        jsonl(
            {"user_id": 7, "item_id": 1, "rating": 4.5, "timestamp": 9},
            {"user_id": 8, "item_id": 2},
        ),
    )
    data = load_generic(items, interactions, strict=True)

    heat, her, alien = data.catalog.items
    assert (heat.title, heat.year, heat.genres, heat.tags) == (
        "Heat",
        1995,
        ("Action", "Crime"),
        ("heist", "la"),
    )
    assert (her.year, her.genres, her.overview) == (None, ("Romance",), "An OS.")
    assert (alien.year, alien.tags) == (1979, ("space",))
    assert [(i.user_id, i.item_id, i.rating, i.timestamp) for i in data.interactions] == [
        (7, 1, 4.5, 9),
        (8, 2, 1.0, 0),
    ]


JSONL_BAD_ROWS = [
    ('{"id": 2, "title": "Her"', "invalid JSON"),
    ('["id", 2]', "invalid JSON"),
    ('{"id": 2.5, "title": "Her"}', "non-integer id"),
    ('{"id": true, "title": "Her"}', "non-integer id"),
    ('{"title": "Her"}', "non-integer id"),
    ('{"id": 2, "title": ""}', "empty title"),
    ('{"id": 2, "title": 1984}', "bad title"),
    ('{"id": 2, "title": "Her", "year": "soon"}', "bad year"),
    ('{"id": 2, "title": "Her", "year": 20131}', "bad year"),
    ('{"id": 2, "title": "Her", "genres": {"a": 1}}', "bad genres"),
    ('{"id": 2, "title": "Her", "tags": [1, 2]}', "bad tags"),
    ('{"id": 2, "title": "Her", "overview": ["x"]}', "bad overview"),
    ('{"id": 1, "title": "Heat again"}', "duplicate item id"),
]


@pytest.mark.parametrize(("bad_row", "reason"), JSONL_BAD_ROWS)
def test_generic_jsonl_bad_rows(tmp_path, bad_row, reason):
    items = write(tmp_path / "items.jsonl", jsonl({"id": 1, "title": "Heat"}, bad_row))

    data = load_generic(items)
    assert data.catalog.ids == [1]
    assert data.report.rows_skipped["items.jsonl"] == {reason: 1}

    with pytest.raises(MalformedRowError, match=rf"items\.jsonl, line 2: {reason}"):
        load_generic(items, strict=True)


def test_generic_bad_interactions_and_csv_year(tmp_path):
    items = write(tmp_path / "items.csv", "id,title,year\n1,Heat,1995\n2,Her,20x3\n")
    interactions = write(
        tmp_path / "interactions.jsonl",
        jsonl(
            {"user_id": 1, "item_id": 1},
            {"user_id": 1, "item_id": 2},
            {"user_id": 1, "item_id": 1, "rating": "x"},
        ),
    )
    data = load_generic(items, interactions)
    assert data.report.rows_skipped == {
        "items.csv": {"bad year": 1},
        "interactions.jsonl": {"unknown item": 1, "non-numeric rating": 1},
    }
    assert len(data.interactions) == 1


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("items.csv", "id,name\n1,Heat\n", r"items\.csv is missing required column\(s\) title"),
        (
            "items.jsonl",
            jsonl({"id": 1, "name": "Heat"}),
            r"line 1: missing required field\(s\) title",
        ),
        ("items.jsonl", "\n\n", r"items\.jsonl has no items"),
        ("items.txt", "id,title\n1,Heat\n", r"unsupported file type"),
    ],
)
def test_generic_whole_file_problems(tmp_path, name, text, message):
    with pytest.raises(DataError, match=message):
        load_generic(write(tmp_path / name, text))


def test_generic_missing_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_generic(tmp_path / "items.csv")
    items = write(tmp_path / "items.csv", "id,title\n1,Heat\n")
    with pytest.raises(DataError, match=r"interactions\.csv does not exist"):
        load_generic(items, tmp_path / "interactions.csv")


# --- detection ----------------------------------------------------------------------------------


def test_load_directory_detects_movielens(tmp_path):
    assert load_directory(movielens_dir(tmp_path)).format == "movielens"


def test_load_directory_detects_generic_with_and_without_interactions(tmp_path):
    write(tmp_path / "a" / "items.csv", "id,title\n1,Heat\n")
    assert load_directory(tmp_path / "a").interactions == []

    write(tmp_path / "b" / "items.jsonl", jsonl({"id": 1, "title": "Heat"}))
    write(tmp_path / "b" / "interactions.csv", "user_id,item_id\n3,1\n")
    data = load_directory(tmp_path / "b")
    assert (data.format, len(data.interactions)) == ("generic", 1)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], r"no catalog found in .*: looked for movies\.csv .* items\.csv / items\.jsonl"),
        (["items.csv", "items.jsonl"], r"both items\.csv and items\.jsonl"),
        (["movies.csv", "items.csv"], r"both movies\.csv and items\.csv"),
        (["items.csv", "interactions.csv", "interactions.jsonl"], r"both interactions\.csv"),
    ],
)
def test_load_directory_refuses_empty_or_ambiguous_folders(tmp_path, files, message):
    for name in files:
        write(tmp_path / name, "id,title\n1,Heat\n")
    with pytest.raises(DataError, match=message):
        load_directory(tmp_path)


def test_load_directory_that_does_not_exist(tmp_path):
    with pytest.raises(DataError, match=r"nowhere does not exist"):
        load_directory(tmp_path / "nowhere")
