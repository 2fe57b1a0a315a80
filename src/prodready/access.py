"""The app's optional access password: where it is configured and how a guess is checked.

A shared password keeps a dashboard shown beyond the room from being opened by whoever finds its
address. It is not per-user authentication (no accounts, no audit of who looked): for that, put
the app behind a reverse proxy that authenticates people (see docs/deployment.md).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from typing import Any

from prodready.errors import ParameterError

PASSWORD_ENV = "PRODREADY_APP_PASSWORD"
PASSWORD_SECRET = "app_password"


def check_password(given: str, expected: str) -> bool:
    """Whether ``given`` is ``expected``, compared in constant time (``hmac.compare_digest`` on
    the UTF-8 bytes) so the time a wrong guess takes says nothing about how close it was.

    Anything but text (``None`` from an empty form) is a wrong guess.
    """
    if not isinstance(given, str) or not isinstance(expected, str):
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def configured_password(
    secrets: Mapping[str, Any] | None, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The app's password, or ``None`` when none is configured (the app is open).

    Precedence: the ``PRODREADY_APP_PASSWORD`` environment variable first (what a deployment
    sets, so it overrides a file), then the ``app_password`` key of Streamlit's secrets
    (``.streamlit/secrets.toml``). An empty value counts as not set. A secret that is not text
    (``app_password = 1234`` in TOML is a number) is refused rather than guessed at.
    """
    from_env = environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if secrets is None or PASSWORD_SECRET not in secrets:
        return None
    value = secrets[PASSWORD_SECRET]
    if not isinstance(value, str):
        raise ParameterError(
            "the app password in Streamlit's secrets is not text",
            where=f"secrets.toml, {PASSWORD_SECRET}",
            expected="a quoted string",
            found=f"a {type(value).__name__}",
            fix=f'quote it: {PASSWORD_SECRET} = "..." (or set {PASSWORD_ENV} instead)',
        )
    return value or None
