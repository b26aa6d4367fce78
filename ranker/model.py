"""The DNN ranker: an item tower, a user tower over recent interactions, and a dot product.

Item tower: a learned ID embedding plus projections of the item's content embedding, genres and
dense features (year, popularity), optionally crossed by DCN-V2 layers. Unknown items take the
shared ``UNK`` ID row, so they are scored from content alone.

User tower: a SASRec-style causal transformer (or a causal mean-pool, for comparison) over the
last ``max_history`` interactions, oldest to newest. Each token is the item vector plus a rating
token (a half-star bucket, or "liked"/"disliked" from the chat, or "start of history"). The state
at the newest position, plus projections of the session's wanted/unwanted genres and query
embedding, is the user vector; the score of an item is ``user · item``.

Index conventions, shared with :mod:`ranker.data` and :mod:`ranker.scorer`:
item index 0 is padding, 1 is "unknown", ``2 + k`` is vocabulary item ``k``. History positions
hold ``1 + row`` of an item table passed in (0 = no item); rating token 0 is padding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

PAD = 0
UNK = 1
N_SPECIAL_ITEMS = 2


@dataclass
class RankerConfig:
    n_items: int  # vocabulary size; the ID table has n_items + 2 rows (pad, unknown)
    n_genres: int
    n_rating_tokens: int
    content_dim: int = 384
    n_dense: int = 3  # year, has_year, log_popularity
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 2
    max_history: int = 50
    dropout: float = 0.1
    encoder: str = "sasrec"  # "sasrec" (causal transformer) or "mean" (causal mean-pool)
    item_cross_layers: int = 0  # DCN-V2 cross layers over the item tower's parts
    id_dropout: float = 0.1  # training only: share of items seen as "unknown" (content only)


class CrossLayer(nn.Module):
    """DCN-V2: ``x_{l+1} = x0 * (W x_l + b) + x_l``."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return x0 * self.linear(x) + x


class ItemTower(nn.Module):
    def __init__(self, config: RankerConfig) -> None:
        super().__init__()
        d = config.d_model
        self.id_embedding = nn.Embedding(config.n_items + N_SPECIAL_ITEMS, d, padding_idx=PAD)
        self.content = nn.Linear(config.content_dim, d)
        self.genres = nn.Linear(config.n_genres, d, bias=False)
        self.dense = nn.Linear(config.n_dense, d)
        self.cross = nn.ModuleList(CrossLayer(4 * d) for _ in range(config.item_cross_layers))
        self.out = nn.Linear(4 * d, d) if config.item_cross_layers else None
        self.id_dropout = config.id_dropout
        nn.init.normal_(self.id_embedding.weight, std=0.02)
        with torch.no_grad():
            self.id_embedding.weight[PAD].zero_()

    def forward(
        self,
        index: torch.Tensor,  # (N,) long, model item index
        content: torch.Tensor,  # (N, C)
        genres: torch.Tensor,  # (N, G)
        dense: torch.Tensor,  # (N, n_dense)
    ) -> torch.Tensor:
        if self.training and self.id_dropout > 0:
            hide = (torch.rand(index.shape) < self.id_dropout) & (index != PAD)
            index = torch.where(hide, torch.full_like(index, UNK), index)
        parts = [self.id_embedding(index), self.content(content), self.genres(genres)]
        parts.append(self.dense(dense))  # each (N, d)
        if self.out is None:
            return torch.stack(parts).sum(0)  # (N, d)
        x0 = torch.cat(parts, dim=-1)  # (N, 4d)
        x = x0
        for layer in self.cross:
            x = layer(x0, x)
        return self.out(x)  # (N, d)


class Block(nn.Module):
    """Pre-norm transformer block with a caller-supplied attention mask."""

    def __init__(self, config: RankerConfig) -> None:
        super().__init__()
        d = config.d_model
        self.n_heads = config.n_heads
        self.dropout = config.dropout
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(
            nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d), nn.Dropout(config.dropout)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape  # (B, T, d); mask (B, 1, T, T) bool, True = may attend
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (t.view(B, T, self.n_heads, d // self.n_heads).transpose(1, 2) for t in (q, k, v))
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)  # (B, H, T, d/H)
        x = x + F.dropout(self.proj(y.transpose(1, 2).reshape(B, T, d)), p, self.training)
        return x + self.mlp(self.ln2(x))


class UserTower(nn.Module):
    def __init__(self, config: RankerConfig) -> None:
        super().__init__()
        d = config.d_model
        self.config = config
        self.rating = nn.Embedding(config.n_rating_tokens, d, padding_idx=0)
        self.position = nn.Embedding(config.max_history, d)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.mean_mlp = (
            nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))
            if config.encoder == "mean"
            else None
        )
        self.ln = nn.LayerNorm(d)
        self.wanted = nn.Linear(config.n_genres, d, bias=False)
        self.unwanted = nn.Linear(config.n_genres, d, bias=False)
        self.query = nn.Linear(config.content_dim, d, bias=False)
        for w in (self.rating.weight, self.position.weight):
            nn.init.normal_(w, std=0.02)

    def states(
        self,
        table: torch.Tensor,  # (N, d) item vectors
        history: torch.Tensor,  # (B, T) long, 1 + row of table, 0 = no item
        ratings: torch.Tensor,  # (B, T) long rating tokens, 0 = padding
    ) -> torch.Tensor:
        """The user state after each position, seeing only that position and earlier ones."""
        T = history.shape[1]
        padded = F.pad(table, (0, 0, 1, 0))  # (N + 1, d), row 0 = no item
        valid = ratings > 0  # (B, T)
        x = padded[history] + self.rating(ratings)  # (B, T, d)
        pos = torch.arange(self.config.max_history - T, self.config.max_history)
        x = self.drop(x + self.position(pos))  # right-aligned positions: newest is always last
        if self.mean_mlp is not None:
            w = valid.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
            mean = (x * w).cumsum(1) / w.cumsum(1).clamp(min=1.0)  # (B, T, d)
            return self.ln(mean + self.mean_mlp(mean))
        causal = torch.ones(T, T, dtype=torch.bool).tril()  # (T, T)
        eye = torch.eye(T, dtype=torch.bool)
        # every position sees itself, so padded rows stay finite and real rows skip padding
        mask = ((causal & valid[:, None, :]) | eye).unsqueeze(1)  # (B, 1, T, T)
        for block in self.blocks:
            x = block(x, mask)
        return self.ln(x)  # (B, T, d)

    def session(
        self,
        wanted: torch.Tensor,  # (..., G) multi-hot
        unwanted: torch.Tensor,  # (..., G)
        query: torch.Tensor,  # (..., C), zeros when there is none
    ) -> torch.Tensor:
        """Additive user-vector term from the conversation; zero when there are no signals."""
        return self.wanted(wanted) + self.unwanted(unwanted) + self.query(query)  # (..., d)


class Ranker(nn.Module):
    """Scores (user context, item) pairs as ``user_vector · item_vector``."""

    def __init__(self, config: RankerConfig) -> None:
        super().__init__()
        self.config = config
        self.items = ItemTower(config)
        self.users = UserTower(config)

    def item_vectors(
        self,
        index: torch.Tensor,  # (N,)
        content: torch.Tensor,  # (N, C)
        genres: torch.Tensor,  # (N, G)
        dense: torch.Tensor,  # (N, n_dense)
    ) -> torch.Tensor:
        return self.items(index, content, genres, dense)  # (N, d)

    def user_vectors(
        self,
        table: torch.Tensor,  # (N, d)
        history: torch.Tensor,  # (B, T)
        ratings: torch.Tensor,  # (B, T)
        wanted: torch.Tensor,  # (B, G)
        unwanted: torch.Tensor,  # (B, G)
        query: torch.Tensor,  # (B, C)
    ) -> torch.Tensor:
        """User vectors after the newest position (the last column)."""
        last = self.users.states(table, history, ratings)[:, -1]  # (B, d)
        return last + self.users.session(wanted, unwanted, query)  # (B, d)

    def forward(
        self,
        table: torch.Tensor,  # (N, d) item vectors; rows [0, V) are the softmax classes
        history: torch.Tensor,  # (B, T)
        ratings: torch.Tensor,  # (B, T)
        wanted: torch.Tensor,  # (B, T, G)
        unwanted: torch.Tensor,  # (B, T, G)
        query: torch.Tensor,  # (B, T, C)
        targets: torch.Tensor,  # (B, T) long class in [0, V), -1 = no target
        n_classes: int,
        negatives: torch.Tensor | None = None,  # (S,) sampled classes; None = full softmax
    ) -> torch.Tensor:
        """Mean cross-entropy of the next item at every position, over all ``n_classes``
        items or over the true item and ``negatives`` drawn uniformly (sampled softmax)."""
        states = self.users.states(table, history, ratings)  # (B, T, d)
        users = states + self.users.session(wanted, unwanted, query)  # (B, T, d)
        scored = targets >= 0  # padding positions skip the softmax, the costliest step
        users, targets = users[scored], targets[scored]  # (P, d), (P,)
        if negatives is None:
            return F.cross_entropy(users @ table[:n_classes].T, targets)  # logits (P, V)
        positive = (users * table[targets]).sum(-1, keepdim=True)  # (P, 1)
        # log(V / S) corrects for uniform sampling (Jean et al. 2015)
        negative = users @ table[negatives].T + math.log(n_classes / len(negatives))  # (P, S)
        negative = negative.masked_fill(negatives[None, :] == targets[:, None], -torch.inf)
        logits = torch.cat([positive, negative], dim=1)  # (P, 1 + S)
        return F.cross_entropy(logits, torch.zeros_like(targets))
