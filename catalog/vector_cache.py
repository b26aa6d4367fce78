"""The embedding cache: one file of (text key, vector) records, appended batch by batch.

Layout: a 16-byte header (``MAGIC``, then the dimension as uint32 and 4 reserved bytes), then
records of a 16-byte key (the first 16 bytes of the SHA-256 of model name and text) followed by
``dim`` little-endian float32s. A build appends each batch it embeds as soon as the batch is done,
so a build that is killed or fails keeps every finished batch and the next one embeds only the
rest. A record cut short by a kill is dropped on opening (whole records only); a file with
another header reads as empty: a damaged cache only costs time.

Read through ``numpy.memmap``, the cache never has to fit in memory; keys are looked up by their
first 8 bytes in a sorted array (16 bytes per cached vector) and confirmed on all 16.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import TracebackType

import numpy as np

MAGIC = b"RBVEC1\x00\x00"
HEADER_BYTES = 16
KEY_BYTES = 16


def key_of(model_name: str, text: str) -> bytes:
    """The cache key of one text's vector: the model and the exact text."""
    return hashlib.sha256(f"{model_name}\x00{text}".encode()).digest()[:KEY_BYTES]


def record_dtype(dim: int) -> np.dtype:
    return np.dtype([("key", f"V{KEY_BYTES}"), ("vector", "<f4", (dim,))])


def keys_array(keys: list[bytes]) -> np.ndarray:
    """(n, 2) uint64: the keys as two words each, for lookups and for writing records."""
    return np.frombuffer(b"".join(keys), dtype="<u8").reshape(len(keys), 2)


def _header(dim: int) -> bytes:
    return MAGIC + np.array([dim, 0], dtype="<u4").tobytes()


def read_records(path: Path, dim: int) -> np.ndarray:
    """The whole records of the cache file at ``path`` as a read-only memmap (empty when there
    is no file or it is not a cache of ``dim``-d vectors)."""
    dtype = record_dtype(dim)
    try:
        with path.open("rb") as handle:
            header = handle.read(HEADER_BYTES)
        size = path.stat().st_size
    except OSError:
        return np.empty(0, dtype=dtype)
    count = (size - HEADER_BYTES) // dtype.itemsize
    if header != _header(dim) or count <= 0:
        return np.empty(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=HEADER_BYTES, shape=(count,))


class VectorCache:
    """Cached vectors to look up and a journal to append new ones to (the same file)."""

    def __init__(self, path: Path, dim: int, *, fresh: bool = False) -> None:
        self.path, self.dim = path, dim
        self._dtype = record_dtype(dim)
        self._records = np.empty(0, dtype=self._dtype) if fresh else read_records(path, dim)
        words = np.ascontiguousarray(self._records["key"]).view("<u8").reshape(-1, 2)
        self._words = words  # (n, 2)
        self._order = np.argsort(words[:, 0], kind="stable")  # (n,)
        self._first = words[self._order, 0]  # (n,) sorted
        path.parent.mkdir(parents=True, exist_ok=True)
        if len(self._records) == 0:
            path.write_bytes(_header(dim))  # new, damaged or fresh: start over
        else:  # drop a record cut short by a kill, so appends stay aligned
            os.truncate(path, HEADER_BYTES + len(self._records) * self._dtype.itemsize)
        self._journal = path.open("ab")

    def __len__(self) -> int:
        return len(self._records)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Rows of ``keys`` (m, 2) in the cache, -1 where a key is not cached. (m,) int64"""
        if not len(self._first) or not len(keys):
            return np.full(len(keys), -1, dtype=np.int64)
        slots = np.minimum(np.searchsorted(self._first, keys[:, 0]), len(self._first) - 1)
        rows = self._order[slots]
        hit = (self._words[rows] == keys).all(axis=1)
        return np.where(hit, rows, -1)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The cached vectors at ``rows``. (k, dim) float32"""
        return np.asarray(self._records["vector"][rows], dtype=np.float32)

    def append(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Add records to the file now, so an interrupted build keeps them."""
        self._journal.write(_records(keys, vectors, self._dtype).tobytes())
        self._journal.flush()

    def close(self) -> None:
        self._journal.close()

    def __enter__(self) -> VectorCache:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class VectorFileWriter:
    """Writes a new cache file record by record, swapped in over ``path`` by :meth:`commit`."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path, self._dtype = path, record_dtype(dim)
        self._tmp = path.with_name(path.name + ".tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self._tmp.open("wb")
        self._handle.write(_header(dim))

    def write(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self._handle.write(_records(keys, vectors, self._dtype).tobytes())

    def commit(self) -> None:
        self._handle.close()
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        self._handle.close()
        self._tmp.unlink(missing_ok=True)


def _records(keys: np.ndarray, vectors: np.ndarray, dtype: np.dtype) -> np.ndarray:
    records = np.empty(len(keys), dtype=dtype)
    records["key"] = np.ascontiguousarray(keys, dtype="<u8").view(f"V{KEY_BYTES}").reshape(-1)
    records["vector"] = vectors
    return records
