"""Fetch the default catalog, MovieLens ml-latest-small, once into a cache folder.

The zip is streamed to a temporary file, verified, unpacked into a temporary folder next to the
target and renamed into place, so a folder under the final name is always complete. A marker file
written inside it after the verified unpack lets later calls return at once without the network.

Verification: GroupLens publishes ``<url>.md5``. When it can be fetched, a mismatch is an error.
When it cannot (404, network trouble, unparseable), a warning is logged and the download is
verified with the zip's own CRC checks only (``zipfile.testzip()``), which catches truncation and
corruption but not a substituted file. The CRC checks run in both cases.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from catalog.errors import DownloadError

ML_LATEST_SMALL_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
DATASET_FOLDER = "ml-latest-small"
REQUIRED_FILES = ("movies.csv", "ratings.csv")
COMPLETE_MARKER = ".recbot-complete"
LOCAL_COPY_HINT = (
    "Set RECBOT_DATA_DIR to a local copy of ml-latest-small (a folder with movies.csv and "
    "ratings.csv), e.g. RECBOT_DATA_DIR=/path/to/ml-latest-small"
)
_CHUNK = 1 << 16
_MD5 = re.compile(r"\b[0-9a-fA-F]{32}\b")

logger = logging.getLogger(__name__)


def ensure_movielens(
    cache_dir: Path,
    *,
    url: str = ML_LATEST_SMALL_URL,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """The folder holding ml-latest-small's ``movies.csv``, ``ratings.csv`` etc. under
    ``cache_dir``, downloading and verifying it first unless a complete copy is already there.

    Raises :class:`DownloadError` when the download fails or does not verify; its message says
    how to point recbot at a local copy instead.
    """
    cache_dir = Path(cache_dir)
    target = cache_dir / DATASET_FOLDER
    if _is_complete(target):
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache folder {cache_dir}: {exc}") from None
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as scratch:
        zip_path = Path(scratch) / "dataset.zip"
        digest = _download(url, zip_path, timeout=timeout, progress=progress)
        verified_by = _verify_checksum(url, digest, timeout=timeout)
        unpacked = _unpack(zip_path, Path(scratch) / "unpacked", url=url)
        marker = {"url": url, "md5": digest, "verified_by": verified_by}
        (unpacked / COMPLETE_MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
        _move_into_place(unpacked, target, Path(scratch) / "stale")
    return target


def _is_complete(folder: Path) -> bool:
    return (folder / COMPLETE_MARKER).is_file() and all(
        (folder / name).is_file() for name in REQUIRED_FILES
    )


def _failure(url: str, why: str) -> DownloadError:
    return DownloadError(
        f"Downloading the MovieLens catalog from {url} failed: {why}. {LOCAL_COPY_HINT}"
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        exc.close()  # it holds the response body open
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _download(url: str, destination: Path, *, timeout: float, progress: bool) -> str:
    """Stream ``url`` into ``destination``; returns the md5 hex digest of what was written."""
    md5 = hashlib.md5(usedforsecurity=False)
    written = 0
    try:
        with (
            urllib.request.urlopen(url, timeout=timeout) as response,
            destination.open("wb") as out,
        ):
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            with tqdm(
                total=expected, unit="B", unit_scale=True, desc=DATASET_FOLDER, disable=not progress
            ) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    md5.update(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _failure(url, _reason(exc)) from exc
    if expected is not None and written != expected:
        raise _failure(url, f"the connection closed after {written} of {expected} bytes")
    return md5.hexdigest()


def _fetch_md5(url: str, *, timeout: float) -> str | None:
    """The published md5 of ``url`` ("<hex>" or "<hex>  <file>"), or None when unavailable."""
    try:
        with urllib.request.urlopen(url + ".md5", timeout=timeout) as response:
            text = response.read(4096).decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        logger.warning("could not fetch the checksum %s.md5 (%s)", url, _reason(exc))
        return None
    match = _MD5.search(text)
    if match is None:
        logger.warning("the checksum %s.md5 holds no md5 digest", url)
    return match.group(0).lower() if match else None


def _verify_checksum(url: str, digest: str, *, timeout: float) -> str:
    """Compare with the published md5; returns how the download was verified."""
    published = _fetch_md5(url, timeout=timeout)
    if published is None:
        logger.warning(
            "verifying %s with the zip's CRC checks only; it is not compared with a checksum", url
        )
        return "zip-crc"
    if published != digest:
        raise _failure(url, f"checksum mismatch (expected md5 {published}, got {digest})")
    return "md5"


def _unpack(zip_path: Path, destination: Path, *, url: str) -> Path:
    """Check and extract the dataset folder of the zip; returns the extracted folder."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            broken = archive.testzip()
            if broken is not None:
                raise _failure(url, f"the zip is corrupt ({broken} fails its CRC check)")
            members = [m for m in archive.infolist() if m.filename.startswith(DATASET_FOLDER + "/")]
            names = {m.filename for m in members}
            missing = [n for n in REQUIRED_FILES if f"{DATASET_FOLDER}/{n}" not in names]
            if missing:
                found = ", ".join(sorted(names)[:5]) or "nothing"
                raise _failure(
                    url, f"the zip has no {DATASET_FOLDER}/{' or '.join(missing)} (found {found})"
                )
            for member in members:
                _check_member(member, url)
                archive.extract(member, destination)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise _failure(url, f"the zip is corrupt ({exc})") from exc
    except OSError as exc:
        raise DownloadError(f"cannot unpack {url} into {destination}: {exc}") from exc
    return destination / DATASET_FOLDER


def _check_member(member: zipfile.ZipInfo, url: str) -> None:
    """Refuse members that would land outside the destination or are links."""
    path = PurePosixPath(member.filename.replace("\\", "/"))
    is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
    if path.is_absolute() or ".." in path.parts or ":" in member.filename or is_link:
        raise _failure(url, f"the zip holds an unsafe entry {member.filename!r}")


def _move_into_place(unpacked: Path, target: Path, stale: Path) -> None:
    """Rename the verified folder to ``target``, first moving aside an incomplete one (a copy
    without the marker: interrupted or made by hand); ``stale`` goes with the scratch folder."""
    try:
        if target.exists():
            os.replace(target, stale)
        os.replace(unpacked, target)
    except OSError as exc:
        if _is_complete(target):  # another process finished first; its copy is as good
            return
        raise DownloadError(f"cannot move the downloaded catalog into {target}: {exc}") from exc
