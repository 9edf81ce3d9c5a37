"""Host (DNS rebinding), Origin/CORS and token checks against the real server, plus the pure helpers."""

from __future__ import annotations

import httpx
import pytest

from startref.server.security import host_allowed, host_name, origin_allowed, token_matches
from startref.server.settings import LOOPBACK_HOSTS, ServerSettings

OVERLEAF = "https://www.overleaf.com"  # the origin the session server allows (conftest passes --allow-origin)
TEXT = "Attention is all you need~"


@pytest.fixture
def payload(small_bib: str) -> dict:
    return {"text": TEXT, "cursor": len(TEXT), "bib_text": small_bib}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "192.168.1.10", "127.0.0.1.nip.io",
                                  "localhost.evil.example", ""])
def test_foreign_host_is_refused(client: httpx.Client, assert_error, payload: dict, host: str) -> None:
    assert_error(client.post("/v1/suggest", json=payload, headers={"Host": host}), 403, "forbidden_host")
    assert_error(client.get("/healthz", headers={"Host": host}), 403, "forbidden_host")


@pytest.mark.parametrize("host", ["localhost", "localhost:1234", "127.0.0.1", "[::1]:8765", "LOCALHOST"])
def test_loopback_hosts_are_accepted(client: httpx.Client, payload: dict, host: str) -> None:
    assert client.post("/v1/suggest", json=payload, headers={"Host": host}).status_code == 200


def test_foreign_origin_is_refused_before_running(client: httpx.Client, assert_error, payload: dict) -> None:
    response = client.post("/v1/suggest", json=payload, headers={"Origin": "https://evil.example"})
    assert_error(response, 403, "forbidden_origin", "--allow-origin")
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options("/v1/suggest", headers={"Origin": "https://evil.example",
                                                       "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403


def test_allowed_origin_gets_cors_headers(server, client: httpx.Client, payload: dict) -> None:
    response = client.post("/v1/suggest", json=payload, headers={"Origin": OVERLEAF})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == OVERLEAF
    # the browser's preflight carries no token and must still pass
    preflight = httpx.options(f"{server.base_url}/v1/suggest", headers={
        "Origin": OVERLEAF, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == OVERLEAF
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    # Chrome's private-network preflight (a public site calling localhost) is answered for allowed origins
    private = httpx.options(f"{server.base_url}/v1/suggest", headers={
        "Origin": OVERLEAF, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Private-Network": "true"})
    assert private.status_code == 200
    assert private.headers["access-control-allow-private-network"] == "true"


def test_same_origin_is_allowed(server, client: httpx.Client, payload: dict) -> None:
    """The /docs page posts with the server's own origin."""
    assert client.post("/v1/suggest", json=payload, headers={"Origin": server.base_url}).status_code == 200


def test_token_required_except_healthz(server, assert_error, payload: dict) -> None:
    with server.client(auth=False) as anonymous:
        assert_error(anonymous.post("/v1/suggest", json=payload), 401, "unauthorized")
        assert_error(anonymous.get("/v1/info"), 401, "unauthorized")
        assert_error(anonymous.get("/docs"), 401, "unauthorized")
        wrong = anonymous.post("/v1/suggest", json=payload, headers={"Authorization": "Bearer wrong"})
        assert_error(wrong, 401, "unauthorized")
        assert wrong.headers["www-authenticate"] == "Bearer"
        basic = anonymous.post("/v1/suggest", json=payload, headers={"Authorization": f"Basic {server.token}"})
        assert_error(basic, 401, "unauthorized")
        assert anonymous.get("/healthz").status_code == 200
    with server.client() as authorised:
        assert authorised.post("/v1/suggest", json=payload).status_code == 200


def test_host_is_checked_before_token(server, assert_error) -> None:
    """A rebinding page learns nothing, not even whether a token is set."""
    with server.client(auth=False) as anonymous:
        assert_error(anonymous.get("/v1/info", headers={"Host": "evil.example"}), 403, "forbidden_host")


def test_host_name_parsing() -> None:
    assert host_name("[::1]:8765") == "::1"
    assert host_name("LocalHost:80") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"
    assert host_allowed("[::1]", LOOPBACK_HOSTS)
    assert not host_allowed(None, LOOPBACK_HOSTS)
    assert not host_allowed("[::1", LOOPBACK_HOSTS)


def test_origin_and_token_helpers() -> None:
    assert origin_allowed("https://www.overleaf.com/", "localhost:1", ("https://www.overleaf.com",))
    assert origin_allowed("http://localhost:8765", "localhost:8765", ())
    assert not origin_allowed("http://localhost:9999", "localhost:8765", ())
    assert not origin_allowed("null", "localhost:8765", ())
    assert token_matches("Bearer abc", "abc") and token_matches("bearer abc ", "abc")
    assert not token_matches("Bearer abcd", "abc") and not token_matches(None, "abc")


def test_settings_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STARTREF_TOKEN", raising=False)
    settings = ServerSettings()
    assert (settings.host, settings.port, settings.token, settings.allow_origins) == ("127.0.0.1", 8765, None, ())
    assert settings.max_body_bytes == 8 * 1024 * 1024 and settings.max_bib_bytes == 20 * 1024 * 1024
    monkeypatch.setenv("STARTREF_TOKEN", "from-env")
    assert ServerSettings().token == "from-env"
    assert ServerSettings(host="0.0.0.0").allowed_hosts == LOOPBACK_HOSTS
    assert "myhost.lan" in ServerSettings(host="myhost.lan").allowed_hosts
    with pytest.raises(ValueError, match="device"):
        ServerSettings(device="tpu")
    round_trip = ServerSettings.from_json(ServerSettings(allow_origins=("https://a.b",), token="t").to_json())
    assert round_trip.allow_origins == ("https://a.b",) and round_trip.token == "t"
