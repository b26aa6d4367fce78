"""ensure_movielens against a loopback HTTP server serving a small generated zip and its md5."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from catalog.download import COMPLETE_MARKER, ML_LATEST_SMALL_URL, ensure_movielens
from catalog.errors import DownloadError
from catalog.loaders import load_movielens

DATASET = {
    "ml-latest-small/movies.csv": "movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n",
    "ml-latest-small/ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n",
    "ml-latest-small/README.txt": "A tiny stand-in for ml-latest-small.\n",
}
UNREACHABLE = "http://127.0.0.1:9/ml-latest-small.zip"  # discard port: nothing listens


def make_zip(files: dict[str, str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def md5_line(data: bytes) -> bytes:
    return f"{hashlib.md5(data).hexdigest()}  ml-latest-small.zip\n".encode()


class LoopbackServer:
    """Serves ``files`` (path -> body) on 127.0.0.1 and records the paths asked for."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.lengths: dict[str, int] = {}  # a Content-Length to claim instead of the real one
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                length = server.lengths.get(self.path, len(body))
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self._running = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}{path}"

    def publish(self, data: bytes, md5: bytes | None = None, path: str = "/ml.zip") -> str:
        self.files[path] = data
        if md5 is not None:
            self.files[path + ".md5"] = md5
        return self.url(path)

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    loopback = LoopbackServer()
    yield loopback
    loopback.stop()


def test_default_url_is_grouplens():
    assert ML_LATEST_SMALL_URL.startswith("https://files.grouplens.org/")


def test_downloads_verifies_and_unpacks(server, tmp_path):
    data = make_zip(DATASET)
    url = server.publish(data, md5_line(data))

    folder = ensure_movielens(tmp_path / "cache", url=url, progress=False)

    assert folder == tmp_path / "cache" / "ml-latest-small"
    assert (folder / "README.txt").read_text() == DATASET["ml-latest-small/README.txt"]
    assert len(load_movielens(folder).catalog) == 1
    marker = json.loads((folder / COMPLETE_MARKER).read_text())
    assert marker == {"url": url, "md5": hashlib.md5(data).hexdigest(), "verified_by": "md5"}
    assert server.requests == ["/ml.zip", "/ml.zip.md5"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["ml-latest-small"]


def test_second_call_uses_the_cache_without_the_network(server, tmp_path):
    data = make_zip(DATASET)
    url = server.publish(data, md5_line(data))
    first = ensure_movielens(tmp_path, url=url, progress=False)
    server.stop()

    assert ensure_movielens(tmp_path, url=url, progress=False) == first
    assert ensure_movielens(tmp_path, url=UNREACHABLE, progress=False) == first
    assert server.requests == ["/ml.zip", "/ml.zip.md5"]


def test_progress_bar_is_shown_when_asked(server, tmp_path, capsys):
    data = make_zip(DATASET)
    ensure_movielens(tmp_path, url=server.publish(data, md5_line(data)), progress=True)
    assert "ml-latest-small" in capsys.readouterr().err


def test_md5_in_bsd_format_is_understood(server, tmp_path):
    data = make_zip(DATASET)
    bsd = f"MD5 (ml-latest-small.zip) = {hashlib.md5(data).hexdigest().upper()}\n".encode()
    assert ensure_movielens(tmp_path, url=server.publish(data, bsd), progress=False).is_dir()


def test_wrong_md5_is_refused_and_leaves_nothing(server, tmp_path):
    url = server.publish(make_zip(DATASET), md5_line(b"something else"))

    with pytest.raises(DownloadError, match="checksum mismatch") as caught:
        ensure_movielens(tmp_path, url=url, progress=False)

    assert "RECBOT_DATA_DIR" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_without_a_published_md5_the_zip_crc_is_checked_and_a_warning_logged(
    server, tmp_path, caplog
):
    url = server.publish(make_zip(DATASET), md5=None)

    with caplog.at_level(logging.WARNING, logger="catalog.download"):
        folder = ensure_movielens(tmp_path, url=url, progress=False)

    assert json.loads((folder / COMPLETE_MARKER).read_text())["verified_by"] == "zip-crc"
    assert "could not fetch the checksum" in caplog.text
    assert "CRC checks only" in caplog.text


def test_unparseable_md5_falls_back_to_the_crc_check(server, tmp_path, caplog):
    url = server.publish(make_zip(DATASET), b"<html>not found</html>")
    with caplog.at_level(logging.WARNING, logger="catalog.download"):
        ensure_movielens(tmp_path, url=url, progress=False)
    assert "holds no md5 digest" in caplog.text


def test_corrupt_member_fails_its_crc_check(server, tmp_path):
    data = make_zip(DATASET, compression=zipfile.ZIP_STORED)
    corrupt = data.replace(b"Toy Story", b"Toy Storx")
    url = server.publish(corrupt, md5=None)  # so only the zip's own check can catch it

    with pytest.raises(DownloadError, match=r"corrupt \(ml-latest-small/movies\.csv fails"):
        ensure_movielens(tmp_path, url=url, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_bytes_that_are_not_a_zip_are_refused(server, tmp_path):
    garbage = b"this is not a zip file" * 100
    url = server.publish(garbage, md5_line(garbage))
    with pytest.raises(DownloadError, match="zip is corrupt"):
        ensure_movielens(tmp_path, url=url, progress=False)


def test_truncated_download_is_refused(server, tmp_path):
    data = make_zip(DATASET)
    url = server.publish(data, md5_line(data))
    server.lengths["/ml.zip"] = len(data) + 1000
    with pytest.raises(DownloadError, match="failed"):
        ensure_movielens(tmp_path, url=url, progress=False, timeout=5)


@pytest.mark.parametrize("missing", ["movies.csv", "ratings.csv"])
def test_zip_without_a_required_file_is_refused(server, tmp_path, missing):
    files = {k: v for k, v in DATASET.items() if not k.endswith(missing)}
    data = make_zip(files)
    url = server.publish(data, md5_line(data))
    with pytest.raises(DownloadError, match=rf"no ml-latest-small/{missing}"):
        ensure_movielens(tmp_path, url=url, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_zip_with_path_traversal_is_refused(server, tmp_path):
    data = make_zip({**DATASET, "ml-latest-small/../../escaped.csv": "x\n"})
    url = server.publish(data, md5_line(data))
    with pytest.raises(DownloadError, match="unsafe entry"):
        ensure_movielens(tmp_path / "cache", url=url, progress=False)
    assert not (tmp_path / "escaped.csv").exists()
    assert list((tmp_path / "cache").iterdir()) == []


def test_unreachable_server_says_how_to_use_a_local_copy(tmp_path):
    with pytest.raises(DownloadError) as caught:
        ensure_movielens(tmp_path, url=UNREACHABLE, timeout=5, progress=False)

    message = str(caught.value)
    assert "failed" in message
    assert UNREACHABLE in message
    assert "RECBOT_DATA_DIR=/path/to/ml-latest-small" in message


def test_http_error_is_a_download_error(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        ensure_movielens(tmp_path, url=server.url("/missing.zip"), progress=False)


def test_incomplete_copy_without_marker_is_replaced(server, tmp_path):
    stale = tmp_path / "ml-latest-small"
    stale.mkdir()
    (stale / "movies.csv").write_text("half a file")
    data = make_zip(DATASET)

    folder = ensure_movielens(tmp_path, url=server.publish(data, md5_line(data)), progress=False)

    assert (folder / "movies.csv").read_text() == DATASET["ml-latest-small/movies.csv"]
    assert (folder / COMPLETE_MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ml-latest-small"]


def test_path_in_cache_folder_that_is_a_file_is_an_error(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    with pytest.raises(DownloadError, match="cannot create the cache folder"):
        ensure_movielens(blocker, url=UNREACHABLE, progress=False)


def test_cache_dir_as_string_is_accepted(server, tmp_path):
    data = make_zip(DATASET)
    folder = ensure_movielens(
        str(tmp_path), url=server.publish(data, md5_line(data)), progress=False
    )
    assert isinstance(folder, Path)
