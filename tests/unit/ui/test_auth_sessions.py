"""Revocable sessions: session versions, which tokens a server honours, the gate that checks
every request and socket, and the sign-in throttle (issue 14, item 7)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from catalog.errors import StoreError
from ui.auth import CREDENTIAL, PROVIDER, VERSION, WIDGET, widget_token
from ui.session_versions import SessionVersions, read_version
from ui.settings import WebSettings
from ui.throttle import Attempt, SignInThrottle

SECRET = "unit-secret-" + "s" * 40


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", SECRET)


def _settings(tmp_path: Path, **kw: Any) -> WebSettings:
    return WebSettings(home=tmp_path, **kw)


def _token(identifier: str, **metadata: Any) -> str:
    from chainlit.auth import create_jwt
    from chainlit.user import User

    return create_jwt(User(identifier=identifier, metadata=metadata))


async def _signed_in(settings: WebSettings, identifier: str) -> str:
    """The token a sign-in on a server with these settings hands out."""
    from chainlit.auth import create_jwt

    from ui.sessions import SessionPolicy

    policy = SessionPolicy(settings)
    try:
        return create_jwt(await policy.user(identifier))
    finally:
        await policy.versions.close()


async def _honours(settings: WebSettings, token: str, headers: dict[str, str] | None = None) -> Any:
    from ui.sessions import SessionPolicy

    policy = SessionPolicy(settings)
    try:
        return await policy.honours(token, headers or {})
    finally:
        await policy.versions.close()


# --- session versions ---------------------------------------------------------------------


def test_a_version_starts_at_0_and_each_sign_out_raises_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    assert read_version(f"sqlite:///{tmp_path / 'app.db'}", "ann") == 0  # no table yet

    async def run() -> tuple[int, int, list[int], int]:
        versions = SessionVersions(url)
        try:
            before = await versions.current("ann")
            first = await versions.revoke("ann")
            together = await asyncio.gather(*(versions.revoke("bob") for _ in range(5)))
            return before, first, sorted(together), await versions.current("bob")
        finally:
            await versions.close()

    before, first, together, bob = asyncio.run(run())
    assert (before, first) == (0, 1)
    assert together == [1, 2, 3, 4, 5] and bob == 5  # concurrent sign-outs: none lost
    assert read_version(f"sqlite:///{tmp_path / 'app.db'}", "ann") == 1


def test_an_unreadable_database_is_a_plain_store_error(tmp_path: Path) -> None:
    (tmp_path / "app.db").write_text("this is not a database " * 100)
    versions = SessionVersions(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    with pytest.raises(StoreError) as raised:
        asyncio.run(versions.current("ann"))
    assert "app.db" not in str(raised.value) and "SELECT" not in str(raised.value)


# --- which tokens a server honours ---------------------------------------------------------


def test_a_sign_out_ends_every_token_issued_before_it(tmp_path: Path) -> None:
    from ui.sessions import SessionPolicy

    settings = _settings(tmp_path)
    older, newer = (asyncio.run(_signed_in(settings, "visitor-1")) for _ in range(2))
    assert asyncio.run(_honours(settings, older)) is True

    async def sign_out() -> str | None:
        policy = SessionPolicy(settings)
        try:
            return await policy.sign_out(newer)
        finally:
            await policy.versions.close()

    assert asyncio.run(sign_out()) == "visitor-1"
    assert asyncio.run(_honours(settings, older)) is False  # on every device
    assert asyncio.run(_honours(settings, newer)) is False
    again = asyncio.run(_signed_in(settings, "visitor-1"))
    assert asyncio.run(_honours(settings, again)) is True


def test_password_tokens_end_when_the_user_or_the_password_goes(tmp_path: Path) -> None:
    before = _settings(tmp_path, auth="password", auth_users="ann:pw,bob:pw2")
    ann = asyncio.run(_signed_in(before, "ann"))
    assert asyncio.run(_honours(before, ann)) is True
    removed = _settings(tmp_path, auth="password", auth_users="bob:pw2")
    assert asyncio.run(_honours(removed, ann)) is False
    changed = _settings(tmp_path, auth="password", auth_users="ann:new,bob:pw2")
    assert asyncio.run(_honours(changed, ann)) is False
    # a token from before credentials were carried, or one naming another mode
    assert asyncio.run(_honours(before, _token("ann", **{PROVIDER: "password"}))) is False
    assert asyncio.run(_honours(before, _token("ann", **{PROVIDER: "visitor"}))) is False
    assert asyncio.run(_honours(before, _token("ann", **{PROVIDER: "header"}))) is False


def test_switching_the_sign_in_mode_ends_the_old_modes_tokens(tmp_path: Path) -> None:
    visitor = asyncio.run(_signed_in(_settings(tmp_path), "visitor-9"))
    password = _settings(tmp_path, auth="password", auth_users="ann:pw")
    assert asyncio.run(_honours(password, visitor)) is False
    header = _settings(tmp_path, auth="header")
    assert asyncio.run(_honours(header, visitor, {"x-forwarded-user": "visitor-9"})) is False
    # tokens from before versions existed stay valid for visitors (their history is the cookie)
    old = _token("visitor-9", **{PROVIDER: "visitor"})
    assert asyncio.run(_honours(_settings(tmp_path), old)) is True


def test_header_tokens_hold_only_while_the_proxy_names_the_same_person(tmp_path: Path) -> None:
    settings = _settings(tmp_path, auth="header", auth_header="X-User")
    token = asyncio.run(_signed_in(settings, "ann"))
    assert asyncio.run(_honours(settings, token, {"x-user": "ann"})) is True
    assert asyncio.run(_honours(settings, token, {"x-user": "bob"})) is False
    assert asyncio.run(_honours(settings, token, {})) is False  # not through the proxy


def test_widget_tokens_are_honoured_only_where_the_operator_lets_them(tmp_path: Path) -> None:
    ann, zoe = widget_token("ann", _settings(tmp_path)), widget_token("zoe", _settings(tmp_path))
    assert asyncio.run(_honours(_settings(tmp_path), ann)) is True  # `none`: on by default
    assert asyncio.run(_honours(_settings(tmp_path, widget_tokens=False), ann)) is False
    password = {"auth": "password", "auth_users": "ann:pw"}
    assert asyncio.run(_honours(_settings(tmp_path, **password), ann)) is False  # off by default
    allowed = _settings(tmp_path, widget_tokens=True, **password)
    assert asyncio.run(_honours(allowed, ann)) is True
    assert asyncio.run(_honours(allowed, zoe)) is False  # configured names only
    header = _settings(tmp_path, auth="header")
    assert asyncio.run(_honours(header, ann)) is False
    assert asyncio.run(_honours(_settings(tmp_path, auth="header", widget_tokens=True), ann))


def test_a_widget_token_carries_the_identity_s_current_version(tmp_path: Path) -> None:
    import jwt

    settings = _settings(tmp_path)

    async def sign_out() -> None:
        versions = SessionVersions(f"sqlite+aiosqlite:///{tmp_path / 'recbot.db'}")
        try:
            await versions.revoke("ann")
        finally:
            await versions.close()

    stale = widget_token("ann", settings)
    asyncio.run(sign_out())
    fresh = widget_token("ann", settings)
    claims = jwt.decode(fresh, SECRET, algorithms=["HS256"])["metadata"]
    assert claims == {PROVIDER: WIDGET, VERSION: 1}
    assert asyncio.run(_honours(settings, stale)) is False
    assert asyncio.run(_honours(settings, fresh)) is True


def test_tokens_that_are_not_genuine_are_left_to_chainlit(tmp_path: Path) -> None:
    import jwt

    settings = _settings(tmp_path)
    forged = jwt.encode({"identifier": "ann", "metadata": {}}, "other-" * 8, algorithm="HS256")
    assert asyncio.run(_honours(settings, forged)) is None
    assert asyncio.run(_honours(settings, "not a token")) is None


def test_a_password_token_carries_a_keyed_digest_not_the_password(tmp_path: Path) -> None:
    import jwt

    settings = _settings(tmp_path, auth="password", auth_users="ann:hunter2")
    token = asyncio.run(_signed_in(settings, "ann"))
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])["metadata"]
    assert claims[PROVIDER] == "password" and claims[VERSION] == 0
    assert claims[CREDENTIAL] and "hunter2" not in token and "hunter2" not in claims[CREDENTIAL]


# --- the gate on every request and socket ----------------------------------------------------


def _echo_app() -> Any:
    """An app answering with the cookie and authorization it was given (HTTP and websocket)."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute

    async def echo(request: Any) -> JSONResponse:
        return JSONResponse({k: request.headers.get(k) for k in ("cookie", "authorization")})

    async def socket(websocket: Any) -> None:
        await websocket.accept()
        await websocket.send_json({"cookie": websocket.headers.get("cookie")})
        await websocket.close()

    return Starlette(routes=[Route("/user", echo), WebSocketRoute("/ws/socket.io/", socket)])


def test_the_gate_takes_stale_tokens_off_requests_and_sockets(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from ui.sessions import SessionGate, SessionPolicy

    settings = _settings(tmp_path, auth="password", auth_users="ann:pw")
    good = asyncio.run(_signed_in(settings, "ann"))
    stale = asyncio.run(
        _signed_in(_settings(tmp_path, auth="password", auth_users="ann:old"), "ann")
    )
    policy = SessionPolicy(settings)
    client = TestClient(SessionGate(_echo_app(), policy))
    with client:
        seen = client.get("/user", headers={"cookie": f"theme=dark; access_token={good}"}).json()
        assert seen["cookie"] == f"theme=dark; access_token={good}"
        seen = client.get("/user", headers={"cookie": f"theme=dark; access_token={stale}"}).json()
        assert seen["cookie"] == "theme=dark"
        seen = client.get("/user", headers={"authorization": f"Bearer {stale}"}).json()
        assert seen["authorization"] is None
        chunked = f"access_token_0={stale[:40]}; access_token_1={stale[40:]}"
        assert client.get("/user", headers={"cookie": chunked}).json()["cookie"] is None
        with client.websocket_connect(
            "/ws/socket.io/", headers={"cookie": f"access_token={stale}"}
        ) as ws:
            assert ws.receive_json() == {"cookie": None}
        with client.websocket_connect(
            "/ws/socket.io/", headers={"cookie": f"access_token={good}"}
        ) as ws:
            assert ws.receive_json() == {"cookie": f"access_token={good}"}
        client.portal.call(policy.versions.close)  # type: ignore[union-attr]


def test_the_gate_answers_503_when_versions_cannot_be_read(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from ui.sessions import SessionGate, SessionPolicy

    settings = _settings(tmp_path)
    token = asyncio.run(_signed_in(settings, "visitor-1"))
    (tmp_path / "recbot.db").write_text("this is not a database " * 100)
    client = TestClient(SessionGate(_echo_app(), SessionPolicy(settings)))
    with client:
        response = client.get("/user", headers={"cookie": f"access_token={token}"})
        assert response.status_code == 503
        assert "try again" in response.text and "recbot.db" not in response.text
        assert client.get("/user").status_code == 200  # no token, nothing to check


# --- the sign-in throttle --------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(throttle: SignInThrottle, name: str, address: str, times: int) -> list[Any]:
    return [throttle.begin(name, address) for _ in range(times)]


def test_after_five_failures_a_name_waits_whatever_the_address() -> None:
    clock = Clock()
    throttle = SignInThrottle(5, 60, clock=clock)
    assert all(isinstance(a, Attempt) for a in _fail(throttle, "ann", "10.0.0.1", 5))
    refused = [throttle.begin(" Ann ", f"10.0.0.{i}") for i in range(2, 17)]
    assert all(isinstance(wait, float) and 0 < wait <= 60 for wait in refused)
    clock.now += 59
    assert not isinstance(throttle.begin("ann", "10.0.0.99"), Attempt)  # refusals never count
    clock.now += 1.5
    assert isinstance(throttle.begin("ann", "10.0.0.99"), Attempt)  # the window has passed


def test_after_five_failures_an_address_waits_whatever_the_name() -> None:
    clock = Clock()
    throttle = SignInThrottle(5, 60, clock=clock)
    for i in range(5):
        assert isinstance(throttle.begin(f"name{i}", "10.0.0.1"), Attempt)
    assert not isinstance(throttle.begin("ann", "10.0.0.1"), Attempt)
    assert isinstance(throttle.begin("ann", "10.0.0.2"), Attempt)


def test_a_success_forgets_the_name_s_failures_but_not_the_address_s() -> None:
    throttle = SignInThrottle(5, 60, clock=Clock())
    _fail(throttle, "ann", "10.0.0.1", 3)
    _fail(throttle, "bob", "10.0.0.1", 1)
    right = throttle.begin("ann", "10.0.0.1")
    assert isinstance(right, Attempt)
    throttle.succeeded(right)
    assert isinstance(throttle.begin("zed", "10.0.0.1"), Attempt)  # 4 failures + this one
    assert not isinstance(throttle.begin("ann", "10.0.0.1"), Attempt)  # the address is full
    assert all(isinstance(a, Attempt) for a in _fail(throttle, "ann", "10.0.0.2", 5))


def test_the_throttle_remembers_a_bounded_number_of_names() -> None:
    throttle = SignInThrottle(5, 60, clock=Clock(), max_keys=50)
    for i in range(1000):
        throttle.begin(f"made-up-{i}", f"10.0.{i // 250}.{i % 250}")
    assert len(throttle._failures) <= 50


def test_throttled_sign_ins_are_refused_with_429_before_the_password_is_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from chainlit.config import config
    from chainlit.server import app
    from chainlit.user import User
    from starlette.testclient import TestClient

    from ui.sessions import TOO_MANY_TRIES, SessionPolicy, guard_sign_in

    checked: list[str] = []

    async def callback(username: str, password: str) -> User | None:
        checked.append(password)
        return User(identifier=username) if password == "right" else None

    monkeypatch.setattr(app.router, "routes", list(app.router.routes))
    monkeypatch.setattr(config.code, "password_auth_callback", callback)
    monkeypatch.setattr("chainlit.server.get_data_layer", lambda: None)
    policy = SessionPolicy(_settings(tmp_path, auth="password", auth_users="ann:right"))
    guard_sign_in(app, policy, SignInThrottle(3, 300))
    client = TestClient(app)
    statuses = [
        client.post("/login", data={"username": "ann", "password": f"guess{i}"}).status_code
        for i in range(20)
    ]
    assert statuses == [401] * 3 + [429] * 17
    refused = client.post("/login", data={"username": "ann", "password": "right"})
    assert refused.status_code == 429 and refused.json()["detail"] == TOO_MANY_TRIES
    assert int(refused.headers["retry-after"]) > 0
    assert checked == ["guess0", "guess1", "guess2"]  # later tries never reached the password
    other = client.post("/login", data={"username": "bob", "password": "right"})
    assert other.status_code == 429  # the same address, whatever the name
