"""``recbot eval --llm-rerank``'s path against the real local model, on three generated users
(short prompts, so it stays within about a minute): what holds with any model — only the top
20 come back, in some order; a fallback keeps the DNN's order and is counted; tokens come from
the server's usage."""

from __future__ import annotations

from agent.settings import Settings
from jobs.rerank_eval import RerankEvalConfig, eval_reranker, rerank_users
from jobs.rerank_report import build_report
from tests.unit.jobs.test_rerank_eval import CATALOG, USERS, ByIdScorer, split
from tools.rerank_modes import VERBALIZER_MAX_TOKENS

CALL_TIMEOUT_S = 60.0


def test_the_verbalizer_rerank_keeps_to_the_top_20(llm_settings: Settings) -> None:
    config = RerankEvalConfig(mode="verbalizer", call_timeout=CALL_TIMEOUT_S)
    # the verbalizer reads a letter and the first token's logprobs, and caps its answers so
    reranker, calls, usage = eval_reranker(llm_settings, config)
    outcomes = rerank_users(
        sorted(USERS), split(), ByIdScorer(), CATALOG, reranker, config, usage=usage, calls=calls
    )
    for outcome in outcomes:
        assert len(outcome.candidates) == 20
        assert sorted(outcome.reranked) == sorted(outcome.candidates)
        assert outcome.calls == 1 and len(outcome.latencies) == 1
        assert outcome.latencies[0] < CALL_TIMEOUT_S + 5
        if outcome.answered:
            assert outcome.input_tokens > 0  # the server's usage
            assert 0 < outcome.output_tokens <= VERBALIZER_MAX_TOKENS
        else:
            assert outcome.fell_back and outcome.error and outcome.input_tokens == 0
        if outcome.fell_back:
            assert outcome.reranked == outcome.candidates
            assert outcome.llm_rank == outcome.dnn_rank
    report = build_report(outcomes, config, model=llm_settings.llm_model, split_users=3)
    assert report["llm"]["fallbacks"] == sum(o.fell_back for o in outcomes)
    assert report["llm"]["calls"] == 3
    assert report["llm"]["answered_calls"] == sum(o.answered for o in outcomes)
