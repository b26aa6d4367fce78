"""recbot train --dialogues on the generated catalog: counts, weights, the saved model."""

from __future__ import annotations

from pathlib import Path

from agent.context import Deps
from agent.recommender import Recommender
from catalog.redial import DialogueSample, Turn
from jobs.conversation_training import capture_pools, train_conversation_model
from ranker.conversation import CONVERSATION_FILE, ConversationExample, ConversationModel
from tests.unit.catalog.test_redial import dialogue, write_redial
from tools.scoring import SIGNALS


def conversations(n: int) -> list[dict]:
    """Seekers who loved Toy Story and were recommended Inception (and Heat, now and then)."""
    return [
        dialogue(
            f"c{k}",
            [
                (1, "Hi! I loved @100, anything like it?"),
                (2, "You might like @101" + (" or @102" if k % 3 == 0 else "")),
                (1, "Thanks!"),
            ],
        )
        for k in range(n)
    ]


def test_training_saves_counts_and_weights_the_agent_then_uses(
    agent_deps: Deps, tmp_path: Path
) -> None:
    folder = write_redial(tmp_path / "redial", conversations(20))
    logged: list[str] = []
    model = train_conversation_model(
        agent_deps, folder, tmp_path / "artifacts", progress=False, log=logged.append
    )
    assert model.examples == 20
    assert model.top_recommended(1) == [8]  # Inception, recommended in every conversation
    assert set(model.weights) >= {"relevance", "ranker", "conversation", "follows"}
    saved = ConversationModel.load(tmp_path / "artifacts" / CONVERSATION_FILE)
    assert saved.weights == model.weights and saved.recommended == model.recommended
    assert any(line.startswith("weights") for line in logged)
    reply = Recommender(agent_deps.with_conversation(saved)).reply(
        [{"role": "user", "content": "I loved Toy Story, anything like it?"}], must_recommend=True
    )
    assert reply.recommendations and reply.recommendations[0].item_id == 8
    untrained = Recommender(agent_deps).reply(
        [{"role": "user", "content": "I loved Toy Story, anything like it?"}], must_recommend=True
    )
    assert untrained.recommendations[0].item_id != 8  # what conversations taught made the change


def test_captured_pools_see_the_signals_the_rank_node_saw(agent_deps: Deps) -> None:
    """The turn's own pick is no movie the conversation named: counted as one, it would feed
    the follows and co-mention signals of training pools, never those the agent ranks by."""
    ids = sorted(agent_deps.tools.catalog.ids)
    ring = [
        ConversationExample((a,), (b,), f"c{a}")
        for a, b in zip(ids, [*ids[1:], ids[0]], strict=True)
    ]
    model = ConversationModel.fit(ring)  # each movie followed by, and named with, the next one
    sample = DialogueSample("d", 1, (Turn("user", "Any good movie for tonight?"),), (ids[0],))
    [captured] = capture_pools(agent_deps, [sample], [model], progress=False)
    for name in ("follows", "together"):
        assert not captured.pool.signals[:, SIGNALS.index(name)].any(), name  # nothing named
