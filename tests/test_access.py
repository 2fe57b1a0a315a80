"""The optional app password: the package's check and configuration, and the gate in the app
(AppTest): no password opens the app; a password shows only a form until it is entered."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from prodready.access import PASSWORD_ENV, check_password, configured_password
from prodready.errors import ParameterError

APP = "../app/streamlit_app.py"  # AppTest resolves it against this file
TIMEOUT = 120
PASSWORD = "corrélation-42 ✓"  # non-ASCII on purpose: compared as UTF-8 bytes


# -- the package --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "expected", "ok"),
    [
        (PASSWORD, PASSWORD, True),
        ("corrélation-42", PASSWORD, False),  # a prefix is not the password
        (PASSWORD + " ", PASSWORD, False),
        ("CORRÉLATION-42 ✓", PASSWORD, False),
        ("", PASSWORD, False),
        ("", "", True),
    ],
)
def test_check_password_compares_the_exact_text(given, expected, ok):
    assert check_password(given, expected) is ok


def test_check_password_treats_anything_but_text_as_wrong():
    assert check_password(None, PASSWORD) is False  # type: ignore[arg-type]
    assert check_password(PASSWORD.encode(), PASSWORD) is False  # type: ignore[arg-type]


def test_check_password_uses_a_constant_time_comparison(monkeypatch):
    import hmac

    from prodready import access

    seen = []

    def spy(a, b):
        seen.append((a, b))
        return a == b

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert access.check_password("abc", "abc")
    assert seen == [(b"abc", b"abc")]


@pytest.mark.parametrize(
    ("secrets", "environ", "expected"),
    [
        (None, {}, None),
        ({}, {}, None),
        ({"app_password": "from-secrets"}, {}, "from-secrets"),
        (None, {PASSWORD_ENV: "from-env"}, "from-env"),
        ({"app_password": "from-secrets"}, {PASSWORD_ENV: "from-env"}, "from-env"),
        ({"app_password": "from-secrets"}, {PASSWORD_ENV: ""}, "from-secrets"),
        ({"app_password": ""}, {PASSWORD_ENV: ""}, None),
        ({"other": "x"}, {"PRODREADY_APP_PASSWORD_X": "y"}, None),
    ],
    ids=[
        "nothing",
        "empty-secrets",
        "secrets",
        "env",
        "env-wins",
        "empty-env-falls-back",
        "empty-values-mean-unset",
        "other-keys-ignored",
    ],
)
def test_configured_password_precedence(secrets, environ, expected):
    assert configured_password(secrets, environ) == expected


def test_a_secret_that_is_not_text_is_refused_with_a_fix():
    with pytest.raises(ParameterError) as caught:
        configured_password({"app_password": 1234}, {})
    message = str(caught.value)
    assert message.startswith("secrets.toml, app_password: the app password")
    assert "Found: a int." in message
    assert 'How to fix: quote it: app_password = "..."' in message


# -- the gate in the app --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_case(tmp_path_factory) -> Path:
    """A tiny case to open the app on (fast, independent of the bundled sample)."""
    folder = tmp_path_factory.mktemp("access_case")
    rows = [
        f"t{i},2025-01-{1 + i % 28:02d} 10:00:00,{i % 50},{i % 2},{(i % 10) / 10}"
        for i in range(60)
    ]
    header = "txn_id,event_time,amount,is_fraud,score"
    for name in ("training.csv", "serving.csv"):
        (folder / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    (folder / "case.yaml").write_text(
        "name: Access test case\ntask: binary\n"
        "training: {path: training.csv}\nserving: {path: serving.csv}\n"
        "columns: {id: txn_id, timestamp: event_time, label: is_fraud, prediction: score}\n"
        "features:\n  - {name: amount, type: numeric}\n",
        encoding="utf-8",
    )
    return folder / "case.yaml"


def _app(monkeypatch, case: Path, password: str | None) -> AppTest:
    monkeypatch.setenv("PRODREADY_CASE", str(case))
    if password is None:
        monkeypatch.delenv(PASSWORD_ENV, raising=False)
    else:
        monkeypatch.setenv(PASSWORD_ENV, password)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _locked(at: AppTest) -> None:
    """Only the password form is on the page: no page, no sidebar, no case."""
    assert [t.value for t in at.title] == ["prodready"]
    assert [t.label for t in at.text_input] == ["Password"]
    assert at.text_input[0].proto.type == at.text_input[0].proto.PASSWORD
    assert not at.metric and not at.sidebar.caption
    assert "case" not in at.session_state


def test_without_a_password_the_app_opens(monkeypatch, small_case):
    at = _app(monkeypatch, small_case, None)
    assert at.title[0].value == "Case"
    assert "Password" not in [t.label for t in at.text_input]
    assert at.session_state["case"].name == "Access test case"


def test_with_a_password_only_the_form_shows_until_it_is_entered(monkeypatch, small_case):
    at = _app(monkeypatch, small_case, PASSWORD)
    _locked(at)
    assert not at.error

    at.text_input(key="access_password").set_value("guess")
    at.button[0].click().run()
    assert not at.exception
    _locked(at)
    assert [e.value for e in at.error] == [
        "Wrong password. Ask whoever shared this dashboard for the password."
    ]

    at.text_input(key="access_password").set_value(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    assert at.title[0].value == "Case"
    assert at.session_state["case"].name == "Access test case"
    assert "Access test case" in at.sidebar.caption[0].value
    # the session stays open: moving to another page asks nothing again
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "Password" not in [t.label for t in at.text_input]


def test_a_password_in_streamlit_secrets_locks_the_app(monkeypatch, small_case):
    monkeypatch.setenv("PRODREADY_CASE", str(small_case))
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["app_password"] = "from secrets"
    at.run()
    assert not at.exception
    _locked(at)
    at.text_input(key="access_password").set_value("from secrets")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Case"


def test_an_unreadable_secret_keeps_the_app_closed_with_one_message(monkeypatch, small_case):
    monkeypatch.setenv("PRODREADY_CASE", str(small_case))
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["app_password"] = 1234
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "app password in Streamlit's secrets is not text" in (
        at.error[0].value
    )
    assert not at.title and not at.text_input and "case" not in at.session_state
