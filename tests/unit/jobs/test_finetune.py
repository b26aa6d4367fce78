"""Fine-tuning data from the training split: no held-out item anywhere, labels from ratings,
LlamaRec letters pointing at the true item, determinism, and the CLI."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from agent.prompts import verbalizer_prompt
from catalog.build import BuildConfig, build, load_manifest
from catalog.domain import Catalog, Interaction, Item
from jobs.finetune import (
    FinetuneConfig,
    FinetuneExample,
    NegativeSampler,
    UserSequence,
    export_finetune,
    llamarec_example,
    tallrec_example,
    user_examples,
)
from ranker.pipeline import read_inputs
from ranker.protocol import Split, leave_last_out
from tests.conftest import write_busy_movielens
from tests.fakes import BagOfWordsEmbedder
from tools.rerank_modes import LABELS
from ui.cli import main

RATINGS = [2.0, 3.0, 3.5, 4.0, 4.5, 5.0]
SMALL = FinetuneConfig(max_history=4, candidates=4)  # each user leaves 4 of 16 movies unrated


def write_rated_movielens(directory: Path) -> Path:
    """The 16-movie catalog with 30 users and varied ratings for the 5-core protocol."""
    return write_busy_movielens(directory, users=30, ratings=tuple(RATINGS), seed=11)


@dataclass
class Built:
    home: Path
    data_dir: Path
    config: BuildConfig
    split: Split
    catalog: Catalog

    @property
    def ids(self) -> dict[str, int]:
        return {item.display_title: item.id for item in self.catalog}

    def examples(
        self, user: int, fmt: str, config: FinetuneConfig = SMALL
    ) -> list[FinetuneExample]:
        sampler = NegativeSampler.from_split(self.split)
        return list(user_examples(self.split, user, fmt, self.catalog, config, sampler))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("finetune")
    home, data_dir = root / "home", write_rated_movielens(root / "ml")
    # the database where Settings puts it, so the CLI (--home) finds this build
    config = BuildConfig(
        home=home, database_url=f"sqlite:///{home / 'recbot.db'}", data_dir=data_dir
    )
    build(config, BagOfWordsEmbedder(), progress=False, log=lambda _msg: None)
    inputs = read_inputs(config)
    return Built(home, data_dir, config, leave_last_out(inputs.interactions), inputs.catalog)


def tallrec_parts(example: FinetuneExample) -> tuple[list[str], list[str], str]:
    liked, disliked, question = example.input.split("\n")
    target = re.fullmatch(r'Whether the user will like the target movie "(.*)"\?', question)
    assert target is not None
    return re.findall(r'"([^"]*)"', liked), re.findall(r'"([^"]*)"', disliked), target[1]


def llamarec_parts(example: FinetuneExample) -> tuple[list[str], list[str]]:
    """(history titles, candidate titles) of a verbalizer prompt."""
    lines = example.input.split("\n")
    assert lines[1].startswith("watched, oldest first: ")
    start = lines.index("Candidates:") + 1
    labelled = lines[start : lines.index("", start)]
    assert [line[:3] for line in labelled] == [f"{label}. " for label in LABELS[: len(labelled)]]
    candidates = [line[3:].split(" | ")[0] for line in labelled]
    return lines[1].removeprefix("watched, oldest first: ").split("; "), candidates


def test_the_wording_is_pinned() -> None:
    tallrec = tallrec_example(["Heat (1995)", "Jumanji (1995)"], [], "Casablanca (1942)", True)
    assert tallrec.input == (
        'User Preference: "Heat (1995)", "Jumanji (1995)"\n'
        "User Unpreference: \n"
        'Whether the user will like the target movie "Casablanca (1942)"?'
    )
    assert tallrec.instruction.endswith('answering "Yes." or "No.".') and tallrec.output == "Yes."
    pool = [Item(12, "Inside Out", 2015), Item(13, "It Follows", 2014)]
    llamarec = llamarec_example(["Heat (1995)", "Jumanji (1995)"], pool, 1)
    served = verbalizer_prompt("watched, oldest first: Heat (1995); Jumanji (1995)", pool, "AB")
    assert (llamarec.instruction, llamarec.input) == (served.system, served.user)
    assert llamarec.output == "B"
    assert list(json.loads(llamarec.model_dump_json())) == ["instruction", "input", "output"]


def test_no_held_out_item_is_a_target_a_history_item_or_a_candidate(built: Built) -> None:
    ids = built.ids
    config = FinetuneConfig(max_history=4, candidates=4, negatives=2)
    for user in built.split.users:
        held_out = {built.split.valid[user], built.split.test[user]}
        for example in built.examples(user, "tallrec", config):
            liked, disliked, target = tallrec_parts(example)
            assert not {ids[t] for t in [*liked, *disliked, target]} & held_out
        for example in built.examples(user, "llamarec", config):
            history, candidates = llamarec_parts(example)
            assert not {ids[t] for t in [*history, *candidates]} & held_out


def test_tallrec_labels_come_from_ratings(built: Built) -> None:
    ids, checked = built.ids, 0
    for user in built.split.users:
        sequence = UserSequence.of(built.split, user).sequence
        rating = {i.item_id: i.rating for i in sequence}
        examples = built.examples(user, "tallrec")
        assert [ids[tallrec_parts(e)[2]] for e in examples] == [i.item_id for i in sequence[1:]]
        for example in examples:
            liked, disliked, target = tallrec_parts(example)
            assert example.output == ("Yes." if rating[ids[target]] >= 4.0 else "No.")
            assert all(rating[ids[t]] >= 4.0 for t in liked)
            assert all(rating[ids[t]] < 4.0 for t in disliked)
            assert 1 <= len(liked) + len(disliked) <= SMALL.max_history
            checked += 1
    assert checked > 100


def test_tallrec_negatives_are_unrated_noes(built: Built) -> None:
    user = built.split.users[0]
    data = UserSequence.of(built.split, user)
    plain = built.examples(user, "tallrec")
    extra = built.examples(user, "tallrec", FinetuneConfig(max_history=4, negatives=2))
    assert len(extra) == 3 * len(plain)
    negatives = [e for n, e in enumerate(extra) if n % 3]
    assert all(e.output == "No." for e in negatives)
    assert all(built.ids[tallrec_parts(e)[2]] not in data.rated for e in negatives)


def test_llamarec_letter_points_at_the_true_next_item(built: Built) -> None:
    ids = built.ids
    for user in built.split.users:
        data = UserSequence.of(built.split, user)
        examples = built.examples(user, "llamarec")
        truths = []
        for example in examples:
            history, candidates = llamarec_parts(example)
            assert len(candidates) == SMALL.candidates == len(set(candidates))
            truth = ids[candidates[LABELS.index(example.output)]]
            truths.append(truth)
            assert truth not in {ids[t] for t in history}
            others = {ids[c] for c in candidates} - {truth}
            assert not others & data.rated  # negatives: never rated, not even held out
            position = [i.item_id for i in data.sequence].index(truth)
            expected = data.sequence[max(0, position - SMALL.max_history) : position]
            assert [ids[t] for t in history] == [i.item_id for i in expected]  # newest last
        assert truths == [i.item_id for i in data.sequence[1:]]


def test_llamarec_answers_are_spread_over_the_letters(built: Built) -> None:
    answers = [e.output for u in built.split.users for e in built.examples(u, "llamarec")]
    shares = [answers.count(letter) / len(answers) for letter in LABELS[: SMALL.candidates]]
    assert all(0.15 <= share <= 0.35 for share in shares)


def test_held_out_items_are_dropped_everywhere_and_repeats_are_no_targets() -> None:
    def rating(item: int, at: int) -> Interaction:
        return Interaction(user_id=1, item_id=item, rating=4.0, timestamp=at)

    # item 20 was rated twice: in training and as the validation target
    train = [rating(10, 1), rating(11, 2), rating(20, 3), rating(10, 4), rating(12, 5)]
    split = Split({1: train}, {1: 20}, {1: 21}, np.array([10, 11, 12, 20, 21]))
    data = UserSequence.of(split, 1)
    assert [i.item_id for i in data.sequence] == [10, 11, 10, 12]
    assert data.rated == {10, 11, 12, 20, 21}
    windows = [([h.item_id for h in history], t.item_id) for history, t in data.windows(SMALL)]
    assert windows == [([10], 11), ([10, 11, 10], 12)]  # the second 10 would answer itself


def test_sampler_skips_excluded_items_and_runs_dry_gracefully() -> None:
    sampler = NegativeSampler(np.array([1, 2, 3, 4], dtype=np.int64), np.array([50, 0, 5, 1]))
    rng = np.random.default_rng(0)
    for _ in range(20):
        drawn = sampler.sample(rng, 2, exclude={1})
        assert sorted(drawn) == [3, 4]  # 2 is never seen in training: never drawn
    assert sampler.sample(rng, 3, exclude={3, 4}) == [1]
    assert sampler.sample(rng, 0, exclude=set()) == []


def test_same_seed_same_bytes_other_seed_other_pools(built: Built, tmp_path: Path) -> None:
    def export(name: str, **options: object) -> Path:
        config = FinetuneConfig(**{"max_history": 4, "candidates": 4, **options})  # type: ignore[arg-type]
        export_finetune(built.split, built.catalog, tmp_path / name, config, log=lambda _m: None)
        return tmp_path / name

    first, again, other = export("a"), export("b"), export("c", seed=1)
    alone = export("d", formats=("tallrec",))
    for name in ["tallrec_train.jsonl", "llamarec_train.jsonl", "manifest.json"]:
        assert (first / name).read_bytes() == (again / name).read_bytes()
    assert (first / "tallrec_train.jsonl").read_bytes() == (
        alone / "tallrec_train.jsonl"
    ).read_bytes()
    assert not (alone / "llamarec_train.jsonl").exists()
    assert (first / "llamarec_train.jsonl").read_bytes() != (
        other / "llamarec_train.jsonl"
    ).read_bytes()


def test_users_are_split_between_train_and_valid_files(built: Built, tmp_path: Path) -> None:
    config = FinetuneConfig(formats=("tallrec",), valid_share=0.2, limit_users=20)
    manifest = export_finetune(built.split, built.catalog, tmp_path, config, log=lambda _m: None)
    assert manifest["users"] == {"train": 16, "valid": 4}
    train = (tmp_path / "tallrec_train.jsonl").read_text().splitlines()
    valid = (tmp_path / "tallrec_valid.jsonl").read_text().splitlines()
    assert len(train) == manifest["files"]["tallrec_train.jsonl"]["records"] > len(valid) > 0


@pytest.mark.parametrize(
    "options",
    [
        {"candidates": 1},
        {"candidates": len(LABELS) + 1},
        {"valid_share": 1.0},
        {"formats": ()},
        {"max_history": 0},
    ],
)
def test_impossible_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FinetuneConfig(**options)  # type: ignore[arg-type]


def cli(built: Built, *args: str) -> int:
    return main(
        ["--home", str(built.home), "--data-dir", str(built.data_dir), "export-finetune", *args]
    )


def test_cli_writes_the_files_and_the_manifest(
    built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ft"
    args = ["--out", str(out), "--candidates", "4", "--max-history", "3", "--seed", "5"]
    assert cli(built, *args, "--limit-users", "10", "--valid-share", "0.2", "--quiet") == 0
    manifest = json.loads((out / "manifest.json").read_text())
    names = {
        f"{fmt}_{part}.jsonl" for fmt in ("tallrec", "llamarec") for part in ("train", "valid")
    }
    assert set(manifest["files"]) == names and {p.name for p in out.iterdir()} == names | {
        "manifest.json"
    }
    for name in names:
        lines = (out / name).read_text().splitlines()
        assert len(lines) == manifest["files"][name]["records"] > 0
        assert set(json.loads(lines[0])) == {"instruction", "input", "output"}
    assert manifest["data_hash"] == load_manifest(built.config).data_hash
    assert manifest["users"] == {"train": 8, "valid": 2}
    assert manifest["options"]["candidates"] == 4 and manifest["options"]["seed"] == 5
    assert manifest["protocol"]["split"] == "ranker.protocol.leave_last_out"
    assert "llamarec_train.jsonl" in capsys.readouterr().out


def test_cli_default_out_and_one_format(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(built, "--format", "llamarec", "--candidates", "3", "--quiet") == 0
    out = Path("results") / "finetune"  # the tests run in a fresh working directory
    assert sorted(p.name for p in out.iterdir()) == [
        "llamarec_train.jsonl",
        "llamarec_valid.jsonl",
        "manifest.json",
    ]


def test_cli_refuses_impossible_options(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(built, "--candidates", "40") == 2
    assert "candidates" in capsys.readouterr().err


def test_cli_before_build_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(tmp_path / "empty"), "export-finetune"]) == 1
    assert "recbot build" in capsys.readouterr().err
