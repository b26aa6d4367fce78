"""The ranker's nn.Module: shapes, causality, padding and train/eval behaviour."""

from __future__ import annotations

import pytest
import torch

from ranker.model import PAD, UNK, Ranker, RankerConfig

N_ITEMS, N_GENRES, CONTENT, D, T, B = 12, 5, 8, 16, 6, 3


def config(**overrides: object) -> RankerConfig:
    base: dict[str, object] = dict(
        n_items=N_ITEMS,
        n_genres=N_GENRES,
        n_rating_tokens=15,
        content_dim=CONTENT,
        d_model=D,
        n_layers=2,
        n_heads=2,
        max_history=T,
        dropout=0.0,
    )
    base.update(overrides)
    return RankerConfig(**base)  # type: ignore[arg-type]


def item_table(model: Ranker, n: int = N_ITEMS) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    index = torch.arange(n) + 2
    content = torch.randn(n, CONTENT, generator=g)
    genres = (torch.rand(n, N_GENRES, generator=g) > 0.5).float()
    dense = torch.rand(n, 3, generator=g)
    return model.item_vectors(index, content, genres, dense)


def history_batch() -> tuple[torch.Tensor, torch.Tensor]:
    history = torch.tensor([[0, 0, 0, 1, 2, 3], [4, 5, 6, 7, 8, 9], [0, 0, 0, 0, 0, 0]])
    ratings = torch.tensor([[0, 0, 13, 10, 8, 11], [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 13]])
    return history, ratings


def no_session(*lead: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.zeros(*lead, N_GENRES), torch.zeros(*lead, N_GENRES), torch.zeros(*lead, CONTENT)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"encoder": "mean"}, {"item_cross_layers": 2}],
    ids=["sasrec", "mean", "dcn"],
)
def test_output_shapes(overrides: dict[str, object]) -> None:
    torch.manual_seed(0)
    model = Ranker(config(**overrides)).eval()
    table = item_table(model)
    history, ratings = history_batch()
    assert table.shape == (N_ITEMS, D)
    assert model.users.states(table, history, ratings).shape == (B, T, D)
    users = model.user_vectors(table, history, ratings, *no_session(B))
    assert users.shape == (B, D)
    assert torch.isfinite(users).all()
    targets = torch.tensor([[-1, -1, 0, 1, 2, 3], [4, 5, 6, 7, 8, 9], [-1] * 5 + [0]])
    loss = model(table, history, ratings, *no_session(B, T), targets, N_ITEMS)
    assert loss.shape == ()
    assert torch.isfinite(loss)


def test_an_empty_history_gives_a_finite_user_vector() -> None:
    model = Ranker(config()).eval()
    table = item_table(model)
    empty = torch.zeros(2, T, dtype=torch.long)
    users = model.user_vectors(table, empty, empty, *no_session(2))
    assert torch.isfinite(users).all()


def test_each_position_only_sees_the_past() -> None:
    torch.manual_seed(0)
    model = Ranker(config()).eval()
    table = item_table(model)
    history, ratings = history_batch()
    changed = history.clone()
    changed[:, -1] = 11
    before = model.users.states(table, history, ratings)
    after = model.users.states(table, changed, ratings)
    torch.testing.assert_close(before[:, :-1], after[:, :-1])
    assert not torch.allclose(before[1, -1], after[1, -1])


def test_padding_does_not_leak_into_real_positions() -> None:
    torch.manual_seed(0)
    model = Ranker(config()).eval()
    table = item_table(model)
    history, ratings = history_batch()
    noisy = history.clone()
    noisy[0, :2] = 7  # an item under padding ratings: masked as a key
    torch.testing.assert_close(
        model.users.states(table, history, ratings)[0, 2:],
        model.users.states(table, noisy, ratings)[0, 2:],
    )


def test_session_signals_move_the_user_vector_and_vanish_when_empty() -> None:
    torch.manual_seed(0)
    model = Ranker(config()).eval()
    table = item_table(model)
    history, ratings = history_batch()
    wanted, unwanted, query = no_session(B)
    plain = model.user_vectors(table, history, ratings, wanted, unwanted, query)
    wanted[:, 1] = 1.0
    query[:, 0] = 1.0
    assert not torch.allclose(
        plain, model.user_vectors(table, history, ratings, wanted, unwanted, query)
    )
    assert torch.count_nonzero(model.users.session(*no_session(B))) == 0


def test_id_dropout_only_while_training() -> None:
    torch.manual_seed(0)
    model = Ranker(config(id_dropout=0.5, dropout=0.0))
    index = torch.arange(N_ITEMS) + 2
    args = (torch.zeros(N_ITEMS, CONTENT), torch.zeros(N_ITEMS, N_GENRES), torch.zeros(N_ITEMS, 3))
    model.eval()
    torch.testing.assert_close(model.item_vectors(index, *args), model.item_vectors(index, *args))
    unknown = model.item_vectors(torch.full((1,), UNK), *(a[:1] for a in args))
    model.train()
    trained = model.item_vectors(index, *args)
    hidden = (trained == unknown).all(dim=1)
    assert 0 < int(hidden.sum()) < N_ITEMS
    padded = model.item_vectors(torch.full((N_ITEMS,), PAD), *args)
    assert not (padded == unknown).all(dim=1).any()  # padding is never relabelled unknown
