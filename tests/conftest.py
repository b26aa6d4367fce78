"""Shared fixtures: small generated catalogs and settings isolated from the developer's machine."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

# tests.agent_fixtures: the small agent (agent_deps, recommender) for tests/unit/agent, tools, ui
pytest_plugins = [
    "tests.llm_stub",
    "tests.real_catalog",
    "tests.agent_fixtures",
    "tests.postgres",
    "tests.served",  # the home and servers every served suite shares (e2e, security, llm)
]

MOVIES = [
    (1, "Toy Story (1995)", "Adventure|Animation|Children|Comedy|Fantasy"),
    (2, "Jumanji (1995)", "Adventure|Children|Fantasy"),
    (3, "Heat (1995)", "Action|Crime|Thriller"),
    (4, "Matrix, The (1999)", "Action|Sci-Fi|Thriller"),
    (5, "Toy Story 2 (1999)", "Adventure|Animation|Children|Comedy|Fantasy"),
    (6, "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Comedy|Romance"),
    (7, "Finding Nemo (2003)", "Adventure|Animation|Children|Comedy"),
    (8, "Inception (2010)", "Action|Crime|Drama|Mystery|Sci-Fi|Thriller|IMAX"),
    (9, "Toy Story 3 (2010)", "Adventure|Animation|Children|Comedy|Fantasy|IMAX"),
    (10, "Conjuring, The (2013)", "Horror|Mystery|Thriller"),
    (11, "Interstellar (2014)", "Sci-Fi|IMAX"),
    (12, "Inside Out (2015)", "Adventure|Animation|Children|Comedy|Drama|Fantasy"),
    (13, "It Follows (2014)", "Horror"),
    (14, "Mad Max: Fury Road (2015)", "Action|Adventure|Sci-Fi|Thriller"),
    (15, "Casablanca (1942)", "Drama|Romance"),
    (16, "Untitled Project", "(no genres listed)"),
]
OVERVIEWS = {
    1: "A cowboy doll is threatened by a new spaceman toy in a boy's bedroom.",
    4: "A hacker learns that reality is a simulation run by machines.",
    8: "A thief steals secrets by entering people's dreams.",
    10: "Paranormal investigators help a family terrorized by a dark presence.",
}


def write_movielens(directory: Path, movies=MOVIES, overviews=OVERVIEWS) -> Path:
    """A tiny MovieLens-format catalog: every file the loader reads, with real-looking rows."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "movies.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["movieId", "title", "genres"])
        writer.writerows(movies)
    ids = [movie[0] for movie in movies]
    with (directory / "ratings.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        for user in range(1, 7):
            for n, item in enumerate(ids[user - 1 :: 2]):
                writer.writerow([user, item, 3.0 + (user + item) % 3, 1_000_000 + 100 * user + n])
    with (directory / "tags.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["userId", "movieId", "tag", "timestamp"])
        writer.writerows(
            [[1, 1, "pixar", 1], [2, 1, "Pixar", 2], [1, 1, "toys", 3], [3, 10, "scary", 4]]
        )
    with (directory / "overviews.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["movieId", "overview"])
        writer.writerows(sorted(overviews.items()))
    return directory


def write_busy_movielens(
    directory: Path,
    *,
    users: int = 40,
    per_user: int = 12,
    ratings: tuple[float, ...] = (2.5, 3.5, 4.0, 5.0),
    seed: int = 7,
) -> Path:
    """The 16-movie catalog with enough users and ratings for the 5-core protocol (each user
    rates ``per_user`` random movies, in order)."""
    import random

    write_movielens(directory)
    rng = random.Random(seed)
    ids = [movie[0] for movie in MOVIES]
    with (directory / "ratings.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        for user in range(1, users + 1):
            for n, item in enumerate(rng.sample(ids, per_user)):
                writer.writerow([user, item, rng.choice(ratings), 1_000 + n])
    return directory


@pytest.fixture
def movielens_dir(tmp_path: Path) -> Path:
    return write_movielens(tmp_path / "ml-tiny")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's RECBOT_* variables, .env file or home directory."""
    import os

    for name in list(os.environ):
        if name.startswith("RECBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RECBOT_HOME", str(tmp_path / "recbot-home"))
    monkeypatch.chdir(tmp_path)
