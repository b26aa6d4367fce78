"""Sessions can be revoked, sign-in is throttled, visitors leave no rows (issue 14, item 7).

Each scenario runs against a real `recbot serve`: a sign-out ends the old cookie on HTTP and on
the chat socket; a user removed from RECBOT_AUTH_USERS is refused after a restart; widget tokens
sign in only where the operator allows them; 20 wrong passwords lock the name and the address
for the window (short here, RECBOT_SIGNIN_WINDOW_S); 50 anonymous sign-ins store nothing.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_protocol import TIMEOUT_S, Chat, poll, sign_in, socket_opens
from tests.security.conftest import (
    Backend,
    StartServer,
    backend_server,
    query,
    table_names,
)
from tests.served import AUTH_SECRET, E2EHome, Server

USERS = "alice:wonderland,bob:builder,carol:singer"
WINDOW_S = 10  # the throttle's window on these servers: the 20 tries land well within it


async def password_sign_in(url: str, name: str, password: str) -> tuple[int, str]:
    """The status of a sign-in form post, and the Cookie header it set (empty when refused)."""
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
        response = await http.post(f"{url}/login", data={"username": name, "password": password})
    jar = {k: v for k, v in response.cookies.items() if k.startswith("access_token")}
    return response.status_code, "; ".join(f"{k}={v}" for k, v in jar.items())


async def token_sign_in(url: str, token: str) -> tuple[int, str]:
    """What the widget does with its token: ``/auth/jwt`` exchanges it for the cookie."""
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
        response = await http.post(f"{url}/auth/jwt", headers={"Authorization": f"Bearer {token}"})
    jar = {k: v for k, v in response.cookies.items() if k.startswith("access_token")}
    return response.status_code, "; ".join(f"{k}={v}" for k, v in jar.items())


async def status(url: str, cookie: str, method: str = "GET", path: str = "/user") -> int:
    async with httpx.AsyncClient(timeout=TIMEOUT_S, headers={"Cookie": cookie}) as http:
        return (await http.request(method, url + path, json={})).status_code


def mint(identifier: str, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> str:
    """A widget token, as the host page's backend mints it with the shared secret and the
    identity's session version read from the servers' own database (``backend``'s, not the
    home's SQLite file: on Postgres that one never saw the sign-outs)."""
    from ui.auth import widget_token
    from ui.settings import WebSettings

    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", AUTH_SECRET)
    return widget_token(identifier, WebSettings(home=backend.home.home, database_url=backend.url))


@pytest.fixture(scope="module")
def password_server(backend: Backend) -> Iterator[Server]:
    """Password sign-in for alice, bob and carol; widget tokens left at their default (off)."""
    env = {
        "RECBOT_AUTH": "password",
        "RECBOT_AUTH_USERS": USERS,
        "RECBOT_SIGNIN_WINDOW_S": str(WINDOW_S),
    }
    srv = backend_server(backend, "security-sessions", **env)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_a_sign_out_ends_the_old_cookie_on_http_and_the_socket(password_server: Server) -> None:
    url = password_server.url

    async def run() -> None:
        code, laptop = await password_sign_in(url, "alice", "wonderland")
        assert code == 200 and laptop
        _, phone = await password_sign_in(url, "alice", "wonderland")  # another device
        open_tab = await Chat(url, phone).open()
        try:
            assert await status(url, laptop) == 200 and await socket_opens(url, laptop)
            assert await status(url, laptop, "POST", "/logout") == 200
            for cookie in (laptop, phone):  # signing out ends every session of the identity
                assert await status(url, cookie) == 401
                assert await status(url, cookie, "POST", "/project/threads") == 401
                assert not await socket_opens(url, cookie)

            async def closed() -> bool:
                return not open_tab.sio.connected

            await poll(closed, lambda: "the signed-out identity's open socket was not closed")
        finally:
            if open_tab.sio.connected:
                await open_tab.close()
        code, again = await password_sign_in(url, "alice", "wonderland")
        assert code == 200 and await status(url, again) == 200 and await socket_opens(url, again)

    asyncio.run(run())


def test_twenty_wrong_passwords_lock_the_name_until_the_window_passes(
    password_server: Server,
) -> None:
    url = password_server.url

    async def run() -> None:
        # together, as a script would: each try counts from the moment it arrives
        guesses = (password_sign_in(url, "carol", f"guess-{i}") for i in range(20))
        tries = await asyncio.gather(*guesses)
        assert Counter(code for code, _ in tries) == {401: 5, 429: 15}
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
            right = await http.post(
                f"{url}/login", data={"username": "carol", "password": "singer"}
            )
        assert right.status_code == 429, "the right password must wait too"
        assert right.json() == {
            "detail": "Too many sign-in attempts. Please wait a few minutes and try again."
        }
        assert int(right.headers["retry-after"]) >= 1 and not right.cookies

        async def released() -> str:  # right tries while it waits are refused, never counted
            code, cookie = await password_sign_in(url, "carol", "singer")
            assert code in (200, 429), code
            await asyncio.sleep(0.2)
            return cookie

        cookie = await poll(released, lambda: "the sign-in throttle never released carol")
        assert await status(url, cookie) == 200

    asyncio.run(run())


def test_a_widget_token_does_not_replace_the_password_by_default(
    password_server: Server, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = mint("alice", backend, monkeypatch)

    async def run() -> None:
        assert (await token_sign_in(password_server.url, token))[0] == 401
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
            bearer = {"Authorization": f"Bearer {token}"}
            assert (
                await http.get(f"{password_server.url}/user", headers=bearer)
            ).status_code == 401
        assert not await socket_opens(password_server.url, f"access_token={token}")

    asyncio.run(run())


def test_a_removed_user_is_refused_after_a_restart_and_widgets_serve_configured_names_only(
    start_server: StartServer, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = start_server(RECBOT_AUTH="password", RECBOT_AUTH_USERS=USERS, RECBOT_WIDGET_TOKENS="true")

    async def before() -> dict[str, str]:
        cookies = {}
        for name, password in (("alice", "wonderland"), ("bob", "builder")):
            code, cookies[name] = await password_sign_in(srv.url, name, password)
            assert code == 200
        code, cookies["widget"] = await token_sign_in(srv.url, mint("alice", backend, monkeypatch))
        assert code == 200 and await status(srv.url, cookies["widget"]) == 200
        stranger = mint("mallory", backend, monkeypatch)
        assert (await token_sign_in(srv.url, stranger))[0] == 401  # not a configured user
        return cookies

    cookies = asyncio.run(before())
    srv.extra_env["RECBOT_AUTH_USERS"] = "alice:wonderland,carol:singer"  # bob is removed
    srv.restart()

    async def after() -> None:
        assert await status(srv.url, cookies["bob"]) == 401
        assert not await socket_opens(srv.url, cookies["bob"])
        for kept in (cookies["alice"], cookies["widget"]):  # a restart alone ends nobody's
            assert await status(srv.url, kept) == 200 and await socket_opens(srv.url, kept)

    asyncio.run(after())


COUNTED = ("chat_users", "accounts", "session_versions")


def _rows(url: str) -> dict[str, int]:
    tables = table_names(url)
    return {t: query(url, f"SELECT COUNT(*) FROM {t}") if t in tables else 0 for t in COUNTED}


def test_fifty_anonymous_sign_ins_store_no_rows_and_a_visitor_can_sign_out(
    start_server: StartServer, backend: Backend, tmp_path: Path
) -> None:
    if backend.url:  # the suite's Postgres database: nothing else writes to it meanwhile
        srv, database = start_server(), backend.app_database()
    else:  # this server's own SQLite file, copied from the shared home
        home = tmp_path / "home"
        shutil.copytree(
            backend.home.home, home, ignore=shutil.ignore_patterns("conversations.db*", "run")
        )
        srv = start_server(home=E2EHome(home, backend.home.data_dir, backend.home.real))
        database = backend.app_database(home)
    before = _rows(database)

    async def run() -> None:
        cookies = [await sign_in(srv.url) for _ in range(50)]
        assert len(set(cookies)) == 50
        assert await status(srv.url, cookies[0]) == 200  # reading the user stores none either
        assert _rows(database) == before
        assert await status(srv.url, cookies[0], "POST", "/logout") == 200
        assert await status(srv.url, cookies[0]) == 401
        assert not await socket_opens(srv.url, cookies[0])
        assert await status(srv.url, cookies[1]) == 200  # another visitor is not affected

    asyncio.run(run())
