"""The prompt cache (a cost lever): identical prompts are answered from the app database."""

from __future__ import annotations

from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage

from agent.llm import UsageCounter
from agent.llm_cache import PromptCache
from agent.settings import Settings
from agent.wiring import chat_model
from catalog.store import Store
from tests.llm_stub import LLMStub


def settings_for(stub: LLMStub, tmp_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "home": tmp_path,
        "llm_base_url": stub.base_url,
        "llm_api_key": "test",
        "llm_max_retries": 0,
        "llm_cache": True,
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


def test_a_repeated_prompt_costs_one_call_and_counts_the_tokens_it_saved(
    llm_stub: LLMStub, tmp_path: Path
) -> None:
    llm_stub.enqueue("3, 1, 2", usage=(120, 6))
    model = chat_model(settings_for(llm_stub, tmp_path))
    counter = UsageCounter()
    prompt = [SystemMessage("Rank the movies."), HumanMessage("1. A 2. B 3. C")]
    first, second = model.invoke(prompt), model.invoke(prompt)
    counter.record(first)
    counter.record(second)

    assert first.text == second.text == "3, 1, 2"
    assert len(llm_stub.requests) == 1  # the second answer never left the process
    usage = counter.snapshot()
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (1, 120, 6)
    assert (usage.cache_hits, usage.tokens_saved) == (1, 126)
    cache = model.cache
    assert isinstance(cache, PromptCache)
    assert cache.stats() == {"hits": 1, "misses": 1, "hit_rate": 0.5, "tokens_saved": 126}


def test_the_cache_outlives_the_process_and_keys_on_parameters(
    llm_stub: LLMStub, tmp_path: Path
) -> None:
    llm_stub.enqueue("yes")
    llm_stub.enqueue("no")
    prompt = [HumanMessage("Will they like Up?")]
    assert chat_model(settings_for(llm_stub, tmp_path)).invoke(prompt).text == "yes"
    again = chat_model(settings_for(llm_stub, tmp_path))  # a new process, the same database
    assert again.invoke(prompt).text == "yes"
    other_seed = chat_model(settings_for(llm_stub, tmp_path, llm_seed=7))
    assert other_seed.invoke(prompt).text == "no"  # other parameters, other key
    assert len(llm_stub.requests) == 2
    store = Store(f"sqlite:///{tmp_path / 'recbot.db'}")
    assert PromptCache(store).size() == 2


def test_without_the_setting_nothing_is_cached(llm_stub: LLMStub, tmp_path: Path) -> None:
    llm_stub.enqueue("a")
    llm_stub.enqueue("b")
    model = chat_model(settings_for(llm_stub, tmp_path, llm_cache=False))
    assert model.cache is None
    prompt = [HumanMessage("same")]
    assert [model.invoke(prompt).text, model.invoke(prompt).text] == ["a", "b"]


def test_usage_scopes_keep_parallel_turns_apart() -> None:
    """Each turn counts its own calls, also those made from worker threads it started."""
    import contextvars
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from langchain_core.messages import AIMessage

    from agent.llm import usage_scope

    counter = UsageCounter()
    answer = AIMessage(
        "1", usage_metadata={"input_tokens": 10, "output_tokens": 1, "total_tokens": 11}
    )
    results: dict[int, tuple[int, int]] = {}
    start = threading.Barrier(3)

    def turn(calls: int) -> None:
        with usage_scope() as spent:
            start.wait()
            with ThreadPoolExecutor(2) as pool:  # as LangGraph runs nodes: in a copied context
                for _ in range(calls):
                    pool.submit(contextvars.copy_context().run, counter.record, answer)
            results[calls] = (spent().calls, spent().input_tokens)

    threads = [threading.Thread(target=turn, args=(n,)) for n in (3, 5, 8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {3: (3, 30), 5: (5, 50), 8: (8, 80)}
    assert counter.calls == 16  # the process-wide total still sees everything
