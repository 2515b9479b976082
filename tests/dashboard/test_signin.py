"""Signing in and out, sessions, CSRF and roles."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from leadpulse.core import clock
from leadpulse.core.errors import Conflict, InvalidInput, NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.store import leads as lead_store
from leadpulse.store import users as user_store
from leadpulse.web.dashboard.throttle import Throttle
from tests.dashboard.support import PASSWORD, csrf_of, login_token, sign_in


def test_signed_out_pages_redirect_to_the_sign_in_form(
    client: TestClient, ids: dict[str, int]
) -> None:
    lead = ids["hot@acme.example"]
    for path in ("/app/leads", f"/app/leads/{lead}", "/app/leads.csv", "/app/users", "/app/"):
        answer = client.get(path, follow_redirects=True)
        assert answer.url.path == "/app/login", path
        assert "Sign in" in answer.text
        assert "Hanna Hot" not in answer.text


def test_signed_out_posts_are_refused(client: TestClient, ids: dict[str, int]) -> None:
    lead = ids["hot@acme.example"]
    answer = client.post(f"/app/leads/{lead}/outcome", data={"outcome": "won"})
    assert answer.status_code == 401
    assert "sign in" in answer.text.lower()


def test_a_forged_session_cookie_is_no_session(client: TestClient, ids: dict[str, int]) -> None:
    client.cookies.set("lp_session", "made-up", path="/app")
    answer = client.get("/app/leads", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/app/login")


def test_sign_in_with_the_right_password_opens_the_leads(
    client: TestClient, ids: dict[str, int], pipeline: Pipeline
) -> None:
    token = login_token(client)
    answer = client.post(
        "/app/login",
        data={"email": " Admin@Shop.Example ", "password": PASSWORD, "csrf": token,
              "next": f"/app/leads/{ids['hot@acme.example']}"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/app/leads/{ids['hot@acme.example']}"
    cookie = answer.headers["set-cookie"]
    assert "lp_session=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert client.get("/app/leads").status_code == 200
    with pipeline.engine.connect() as conn:
        admin = user_store.user_by_email(conn, "admin@shop.example")
    assert admin is not None
    assert admin["signed_in_at"] is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [("admin@shop.example", "wrong password"), ("nobody@shop.example", PASSWORD)],
)
def test_a_wrong_password_or_email_is_refused_with_one_message(
    client: TestClient, ids: dict[str, int], email: str, password: str
) -> None:
    token = login_token(client)
    answer = client.post(
        "/app/login", data={"email": email, "password": password, "csrf": token},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 401
    assert "wrong email or password" in answer.text
    assert "lp_session" not in answer.headers.get("set-cookie", "")
    assert client.get("/app/leads", follow_redirects=False).status_code == 303


def test_the_sign_in_form_needs_its_csrf_token(client: TestClient, ids: dict[str, int]) -> None:
    login_token(client)
    answer = client.post(
        "/app/login", data={"email": "admin@shop.example", "password": PASSWORD, "csrf": "x"}
    )
    assert answer.status_code == 403
    assert client.get("/app/leads", follow_redirects=False).status_code == 303


def test_only_dashboard_paths_are_followed_after_sign_in(
    client: TestClient, ids: dict[str, int]
) -> None:
    token = login_token(client)
    answer = client.post(
        "/app/login",
        data={"email": "admin@shop.example", "password": PASSWORD, "csrf": token,
              "next": "https://evil.example/app/"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.headers["location"] == "/app/leads"


def test_a_form_without_the_session_csrf_token_is_refused(
    client: TestClient, ids: dict[str, int], pipeline: Pipeline
) -> None:
    sign_in(client, "admin@shop.example")
    lead = ids["hot@acme.example"]
    for data in ({"outcome": "won"}, {"outcome": "won", "csrf": "not-the-token"}):
        answer = client.post(f"/app/leads/{lead}/outcome", data=data)
        assert answer.status_code == 403
        assert "expired" in answer.text
    with pipeline.engine.connect() as conn:
        assert lead_store.outcomes_of(conn, lead) == []


def test_sign_out_ends_the_session(client: TestClient, ids: dict[str, int]) -> None:
    csrf = sign_in(client, "marketer@shop.example")
    cookie = client.cookies.get("lp_session")
    answer = client.post("/app/logout", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    client.cookies.set("lp_session", cookie or "", path="/app")
    assert client.get("/app/leads", follow_redirects=False).status_code == 303


def test_roles_limit_what_a_user_may_do(client: TestClient, ids: dict[str, int]) -> None:
    csrf = sign_in(client, "olga@shop.example")
    assert client.get("/app/users").status_code == 403
    assert client.get("/app/leads.csv").status_code == 403
    answer = client.post(
        "/app/leads/assign", data={"csrf": csrf, "lead": str(ids["hot@acme.example"]),
                                   "manager": "olga"}
    )  # fmt: skip
    assert answer.status_code == 403
    assert "Export CSV" not in client.get("/app/leads").text
    other = TestClient(client.app, base_url="http://testserver")
    sign_in(other, "marketer@shop.example")
    assert other.get("/app/users").status_code == 403
    assert other.get("/app/leads.csv").status_code == 200
    admin = TestClient(client.app, base_url="http://testserver")
    sign_in(admin, "admin@shop.example")
    users = admin.get("/app/users")
    assert users.status_code == 200
    assert "olga@shop.example" in users.text


def test_accounts_refuse_bad_users(pipeline: Pipeline, ids: dict[str, int]) -> None:
    with pytest.raises(Conflict):
        pipeline.accounts.add_user("ADMIN@shop.example", PASSWORD, "admin")
    with pytest.raises(InvalidInput, match="role"):
        pipeline.accounts.add_user("x@shop.example", PASSWORD, "boss")
    with pytest.raises(InvalidInput, match="too short"):
        pipeline.accounts.add_user("x@shop.example", "short", "sales")
    with pytest.raises(InvalidInput, match="email"):
        pipeline.accounts.add_user("not an email", PASSWORD, "sales")
    with pytest.raises(NotFound, match="manager"):
        pipeline.accounts.add_user("x@shop.example", PASSWORD, "sales", manager="ghost")


def test_only_a_hash_of_the_password_and_of_the_session_is_stored(
    client: TestClient, pipeline: Pipeline, ids: dict[str, int]
) -> None:
    sign_in(client, "admin@shop.example")
    token = client.cookies.get("lp_session")
    assert token
    with pipeline.engine.connect() as conn:
        found = user_store.credentials(conn, "admin@shop.example")
        assert user_store.session_user(conn, token, 0) is None
    assert found is not None
    assert found[1].startswith("$argon2id$")
    assert PASSWORD not in found[1]
    assert csrf_of(client.get("/app/leads").text) != token


def test_repeated_wrong_passwords_are_held_back(client: TestClient, ids: dict[str, int]) -> None:
    def attempt(password: str) -> int:
        token = login_token(client)
        return client.post(
            "/app/login",
            data={"email": "admin@shop.example", "password": password, "csrf": token},
            follow_redirects=False,
        ).status_code

    assert [attempt(f"guess {n}") for n in range(10)] == [401] * 10
    assert attempt(PASSWORD) == 429
    held = client.post(
        "/app/login",
        data={"email": "admin@shop.example", "password": PASSWORD, "csrf": login_token(client)},
    )
    assert "Too many failed sign-ins; try again in 10 minutes." in held.text
    other = TestClient(client.app, base_url="http://testserver")
    sign_in(other, "marketer@shop.example")


def test_the_throttle_forgets_after_its_window() -> None:
    throttle = Throttle()
    at = 1_800_000_000_000
    clock.set_clock(lambda: at)
    try:
        for _ in range(10):
            throttle.failed("a@x", "1.2.3.4")
        assert throttle.wait_minutes("a@x", "1.2.3.4") == 10
        assert throttle.wait_minutes("b@x", "5.6.7.8") == 0
        at += 9 * 60_000 + 1
        assert throttle.wait_minutes("a@x", "1.2.3.4") == 1
        at += 60_000
        assert throttle.wait_minutes("a@x", "1.2.3.4") == 0
        for _ in range(50):
            throttle.failed("c@x", "9.9.9.9")
        assert throttle.wait_minutes("someone@else", "9.9.9.9") == 10
        throttle.succeeded("c@x")
        assert throttle.wait_minutes("c@x", "1.1.1.1") == 0
    finally:
        clock.set_clock(None)


def test_the_site_root_leads_to_the_dashboard(client: TestClient) -> None:
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "/app/"
    assert client.get("/").url.path == "/app/login"


def test_an_oversized_form_is_refused_before_it_is_read(
    client: TestClient, ids: dict[str, int]
) -> None:
    csrf = sign_in(client, "admin@shop.example")
    lead = ids["hot@acme.example"]
    answer = client.post(f"/app/leads/{lead}/outcome", data={"csrf": csrf, "note": "x" * 300_000})
    assert answer.status_code == 400
    assert "the form is too large" in answer.text
