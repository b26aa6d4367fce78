"""`recbot enrich`'s jobs: the LLM one with a scripted fake and the real client, and the rules."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from agent.llm import UsageCounter, make_chat_model
from agent.prompts import ENRICH_PROMPT_VERSION, enrich_prompt
from catalog.domain import Item
from catalog.enrichment import EnrichmentStore
from catalog.store import Store
from jobs.enrich import (
    RULES_VERSION,
    EnrichReport,
    enrich_with_llm,
    enrich_with_rules,
    format_enrichment,
    parse_enrichment,
    rules_enrichment,
)
from simulations.metrics import Price
from tests.unit.agent.test_prompts import check_golden

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub

ANSWER = """Tone: tense, gritty, cool
Themes: heist, obsession, cops and robbers
Audience: adults who like crime epics
Pace: measured, then explosive
If you liked: Collateral, The Departed"""
DESCRIPTION = (
    "Tone: tense, gritty, cool. Themes: heist, obsession, cops and robbers. "
    "Audience: adults who like crime epics. Pace: measured, then explosive. "
    "If you liked: Collateral, The Departed."
)
ITEMS = [
    Item(1, "Toy Story", 1995, ("Animation", "Children", "Comedy"), ("pixar", "fun")),
    Item(3, "Heat", 1995, ("Action", "Crime", "Thriller"), overview="A detective hunts a thief."),
    Item(10, "Conjuring, The", 2013, ("Horror",), ("scary",), "A dark presence haunts a family."),
    Item(16, "Untitled Project", None, ("(no genres listed)",)),
]


class ScriptedChat:
    """A fake chat model: answers by title (or ``default``) and raises scripted errors; records
    every prompt and the most calls ever in flight at once. With ``gate``, each call waits (up
    to a second) until ``gate`` calls are in flight, so parallel calls surely overlap."""

    def __init__(self, answers: dict[str, str | Exception] | None = None, gate: int = 1):
        self.answers = answers or {}
        self.default: str | Exception = ANSWER
        self.gate = gate
        self.prompts: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Condition()

    def invoke(self, messages: list[BaseMessage]) -> AIMessage:
        user = str(messages[-1].content)
        with self._lock:
            self.prompts.append(user)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._lock.notify_all()
            self._lock.wait_for(lambda: self.in_flight >= self.gate, timeout=1.0)
        try:
            title = user.splitlines()[0].removeprefix("Title: ")
            answer = next((a for t, a in self.answers.items() if title.startswith(t)), None)
            answer = self.default if answer is None else answer
            if isinstance(answer, Exception):
                raise answer
            usage = {"input_tokens": 100, "output_tokens": 30, "total_tokens": 130}
            return AIMessage(answer, usage_metadata=usage)  # type: ignore[arg-type]
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def store(tmp_path: Path) -> EnrichmentStore:
    return EnrichmentStore(Store(f"sqlite:///{tmp_path / 'app.db'}"))


def run(model: Any, store: EnrichmentStore, **options: Any) -> EnrichReport:
    return enrich_with_llm(model, ITEMS, store, progress=False, **options)


# --- the prompt ----------------------------------------------------------------------------------


def test_enrich_prompt() -> None:
    full = Item(
        4,
        "Matrix, The",
        1999,
        ("Action", "Sci-Fi"),
        ("cyberpunk", "virtual\nreality"),
        overview="A hacker learns\nthat reality is a simulation run by machines.",
    )
    text = enrich_prompt(full).render() + enrich_prompt(ITEMS[3]).render()
    check_golden("enrich.txt", text)


def test_enrich_prompt_cuts_long_overviews() -> None:
    item = Item(1, "Long", 2000, overview="word " * 1000)
    assert len(enrich_prompt(item).user.split("Overview: ")[1]) <= 1000


# --- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (ANSWER, DESCRIPTION),
        ("- **Tone:** tense\n- **Themes**: heist\n* Pace: fast.", "Tone: tense. Themes: heist. Pace: fast."),
        ("Sure! Here it is:\n\nPace: fast\nTone: dark\nAUDIENCE: adults\n\nEnjoy!", "Tone: dark. Audience: adults. Pace: fast."),
        ("Tone: a\nTone: b\nPace: c\nThemes: d", "Tone: a. Themes: d. Pace: c."),
        ("1. Tone: a\n2. Themes:\n3. Pace: c", None),  # an empty field does not count
        ("Tone: a\nPace: c", None),
        ("I don't know this movie.", None),
        ("", None),
        # SmolLM2-135M's answer for 20 of 100 cold items: the instructions, echoed
        ("Tone: 3 to 5 adjectives for its mood, for example dark, witty, heartwarming, tense.\n"
         "Audience: who would enjoy it, in a few words.\n"
         "Pace: slow, measured, brisk or fast, with a few words on how it moves.\n"
         "If you liked: 2 or 3 well-known movies with a similar appeal, comma-separated.", None),
        ("Tone: dark, witty\nThemes: who would enjoy it, in a few words\nPace: fast\n"
         "Audience: teens", "Tone: dark, witty. Audience: teens. Pace: fast."),
    ],
)  # fmt: skip
def test_parse_enrichment(answer: str, expected: str | None) -> None:
    assert parse_enrichment(answer) == expected


def test_long_fields_are_cut() -> None:
    text = format_enrichment({"Tone": "very " * 100, "Themes": "x"})
    tone = text.split(". Themes")[0]
    assert len(tone) <= len("Tone: ") + 200 and tone.endswith("…")


# --- the LLM job, with a fake --------------------------------------------------------------------


def test_every_item_is_described_once_and_counted(store: EnrichmentStore) -> None:
    model = ScriptedChat()
    counter = UsageCounter()
    report = run(model, store, counter=counter, price=Price(0.15, 0.60))
    assert (report.enriched, report.already, report.remaining, report.failed) == (4, 0, 0, {})
    assert report.usage.calls == 4 and counter.calls == 4
    assert (report.usage.input_tokens, report.usage.output_tokens) == (400, 120)
    assert report.cost_usd == pytest.approx((400 * 0.15 + 120 * 0.60) / 1e6)
    assert store.texts() == dict.fromkeys((1, 3, 10, 16), DESCRIPTION)
    rows = store.all()
    assert {(r.prompt_version, r.source, r.input_tokens, r.output_tokens) for r in rows} == {
        (ENRICH_PROMPT_VERSION, "llm", 100, 30)
    }
    assert "llm           4 calls, 400 input + 120 output tokens, $0.0001" in report.summary()


def test_the_job_resumes_and_honours_the_limit(store: EnrichmentStore) -> None:
    first = run(ScriptedChat(), store, limit=2)
    assert (first.enriched, first.remaining) == (2, 2)
    model = ScriptedChat()
    second = run(model, store)
    assert (second.already, second.enriched, second.remaining) == (2, 2, 0)
    assert sorted(p.splitlines()[0] for p in model.prompts) == [
        "Title: The Conjuring (2013)",
        "Title: Untitled Project",
    ]
    again = ScriptedChat()
    assert run(again, store).enriched == 0 and again.prompts == []


def test_a_new_prompt_version_describes_everything_again(store: EnrichmentStore) -> None:
    run(ScriptedChat(), store)
    report = run(ScriptedChat(), store, prompt_version="enrich-test-2")
    assert report.enriched == 4 and len(store.all()) == 8


def test_failures_are_reported_and_left_for_the_next_run(store: EnrichmentStore) -> None:
    model = ScriptedChat({"Heat": TimeoutError("read timed out"), "The Conjuring": "no idea"})
    report = run(model, store)
    assert report.enriched == 2 and set(report.failed) == {3, 10}
    assert report.failed[3] == "TimeoutError: read timed out"
    assert report.failed[10].startswith("unusable answer: 'no idea'")
    assert report.usage.calls == 3  # the unusable answer cost tokens; the timeout did not answer
    assert "failed        item 3: TimeoutError" in report.summary()
    retry = ScriptedChat()
    assert run(retry, store).enriched == 2 and len(retry.prompts) == 2


def test_concurrency_is_limited(store: EnrichmentStore) -> None:
    model = ScriptedChat(gate=2)
    assert run(model, store, concurrency=2).enriched == 4
    assert model.max_in_flight == 2  # never the 4 it could have been
    serial = ScriptedChat()
    run(serial, EnrichmentStore(Store("sqlite://")), concurrency=1)
    assert serial.max_in_flight == 1


def test_concurrency_must_be_positive(store: EnrichmentStore) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        run(ScriptedChat(), store, concurrency=0)


# --- the LLM job, with the real client -----------------------------------------------------------


def test_real_client_against_the_stub(store: EnrichmentStore, llm_stub: LLMStub) -> None:
    model = make_chat_model(llm_stub.base_url, "stub-model", "sk-test", timeout=5, max_retries=0)
    llm_stub.enqueue(ANSWER, usage=(150, 45))
    llm_stub.enqueue(status=500)
    report = enrich_with_llm(
        model, ITEMS[1:3], store, concurrency=1, price=Price(1.0, 2.0), progress=False
    )
    assert report.enriched == 1 and list(report.failed) == [10]
    assert "Error code: 500" in report.failed[10]
    assert (report.usage.calls, report.usage.input_tokens, report.usage.output_tokens) == (
        1,
        150,
        45,
    )
    assert report.cost_usd == pytest.approx((150 * 1.0 + 45 * 2.0) / 1e6)
    assert store.texts() == {3: DESCRIPTION}
    first = llm_stub.requests[0]
    assert first["model"] == "stub-model" and first["messages"][0]["role"] == "system"
    assert first["messages"][1]["content"].startswith("Title: Heat (1995)\n")


# --- rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (ITEMS[0], "Tone: light-hearted, funny, gentle. Themes: fun. Audience: families and children. Pace: easygoing."),
        (ITEMS[1], "Tone: exciting, scary, violent. Audience: adults. Pace: fast."),
        (ITEMS[2], "Tone: scary, dark, violent. Themes: scary, dark, family. Audience: horror fans. Pace: moderate."),
        (ITEMS[3], "Audience: general audiences. Pace: moderate."),
    ],
)  # fmt: skip
def test_rules_enrichment(item: Item, expected: str) -> None:
    assert rules_enrichment(item) == expected


def test_rules_job_saves_only_what_changed(store: EnrichmentStore) -> None:
    first = enrich_with_rules(ITEMS, store, limit=3)
    assert (first.source, first.prompt_version) == ("rules", RULES_VERSION)
    assert (first.enriched, first.already, first.remaining) == (3, 0, 1)
    second = enrich_with_rules(ITEMS, store)
    assert (second.enriched, second.already, second.remaining) == (1, 3, 0)
    assert "llm " not in second.summary() and "3 unchanged" in second.summary()
    assert store.texts()[16] == "Audience: general audiences. Pace: moderate."


def test_enriched_vectors_change_the_rankers_fingerprint(
    tmp_path: Path, movielens_dir: Path
) -> None:
    """The ranker's item features are the content vectors, so a build that embeds enriched text
    must not reuse a checkpoint trained on the old vectors."""
    from catalog.build import BuildConfig, build
    from jobs.enrich import enrich_with_rules
    from ranker.pipeline import read_inputs
    from tests.fakes import BagOfWordsEmbedder

    config = BuildConfig(
        home=tmp_path, database_url=f"sqlite:///{tmp_path / 'app.db'}", data_dir=movielens_dir
    )
    quiet: dict[str, Any] = {"progress": False, "log": lambda _msg: None}
    build(config, BagOfWordsEmbedder(), **quiet)
    plain = read_inputs(config).data_hash
    store = Store(config.database_url)
    enrich_with_rules(list(store.load_catalog()), EnrichmentStore(store))
    build(config, BagOfWordsEmbedder(), **quiet)
    enriched = read_inputs(config).data_hash
    assert enriched != plain and enriched.startswith(plain)
