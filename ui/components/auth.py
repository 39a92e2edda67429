"""Optional access password for a LAN deployment of the app.

A clinic that serves the app to other machines on its network can set a password, either in
Streamlit's secrets (``access_password = "..."`` in ``.streamlit/secrets.toml``) or in the environment
variable ``POSTURE_ACCESS_PASSWORD``. With neither set the app is open (the default for a single
machine). The check is per browser session: a correct password is remembered in
``st.session_state`` until the session ends.

Use at the top of the app's ``main()``::

    if not require_access():
        st.stop()
"""

from __future__ import annotations

import hmac
import os

import streamlit as st

ENV_PASSWORD = "POSTURE_ACCESS_PASSWORD"
SECRET_KEY = "access_password"
SESSION_KEY = "posture_access_granted"


def configured_password() -> str | None:
    """The configured access password, or None when the app is open.

    Streamlit's secrets win over the environment. A missing or unreadable secrets file is not an
    error: it only means no password is set there. An empty password counts as none."""
    secret: object = None
    try:
        secret = st.secrets.get(SECRET_KEY)
    except Exception:  # no secrets.toml, or a malformed one: fall back to the environment
        secret = None
    if isinstance(secret, str) and secret:
        return secret
    env = os.environ.get(ENV_PASSWORD, "")
    return env or None


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of UTF-8 bytes (no timing hint about how much matched)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def require_access() -> bool:
    """True when the user may see the app: no password configured, or entered correctly in this
    session. Otherwise draws a password form and returns False (the caller then stops the page)."""
    expected = configured_password()
    if expected is None:
        return True
    if st.session_state.get(SESSION_KEY) is True:
        return True
    st.title("posture")
    with st.form("posture_access_form"):
        given = st.text_input("Access password", type="password", key="posture_access_input")
        submitted = st.form_submit_button("Enter")
    if submitted:
        if password_matches(given or "", expected):
            st.session_state[SESSION_KEY] = True
            st.rerun()
        st.error("That password is not correct. Ask the clinic's administrator for access.")
    return False
