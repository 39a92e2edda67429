"""Media only while the session that made it lives.

Streamlit serves a session's media (``/media/<id>.jpg`` photos, the PDF and zip downloads) to anyone
with the URL, for as long as some session still references the file. A closed browser tab's session
is kept for reconnection (``server.disconnectedSessionTTL``, .streamlit/config.toml), and when that
time is up the installed Streamlit only drops the session from its reconnect cache
(``MemorySessionStorage``'s TTL cache): it never shuts it down, so its media references - and the
client's photo at its URL - stay until the server stops (measured: the photo still served 135 s after
the browser closed).

:func:`start` runs one daemon thread per server process that, every :data:`REAP_INTERVAL_S`,
shuts down (on Streamlit's event loop, as Streamlit itself does) each disconnected session older
than the TTL: its uploads, media references and caches are released and its media stop being served
(Streamlit drops a download after a second orphan pass, which the next sweep gives). A session that
reconnects in time is left alone. Nothing is logged about what the session contained.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

_log = logging.getLogger(__name__)

# How often the reaper looks at the disconnected sessions (s). A closed session's media stop being
# served within disconnectedSessionTTL + 2 * REAP_INTERVAL_S.
REAP_INTERVAL_S = 5.0

_started = False
_start_lock = threading.Lock()


def _runtime() -> Any | None:
    from streamlit import runtime

    return runtime.get_instance() if runtime.exists() else None


def _ttl_s() -> float:
    from streamlit import config

    return float(config.get_option("server.disconnectedSessionTTL"))


def _shut_down(rt: Any, storage: Any, session: Any) -> None:
    """On the event loop: drop ``session`` from the reconnect storage (unless it reconnected) and
    shut it down, then release the media no session references any more."""
    sid = session.id
    if rt._session_mgr.is_active_session(sid):
        return
    with contextlib.suppress(KeyError):  # already expired out of the TTL cache
        storage.delete(sid)
    session.shutdown()
    rt.media_file_mgr.remove_orphaned_files()


def sweep(rt: Any, seen: dict[str, tuple[Any, float]], now: float, ttl_s: float) -> int:
    """One pass: note the disconnected sessions, schedule the shut-down of those disconnected for
    ``ttl_s`` or more (or already gone from Streamlit's cache); returns how many were scheduled."""
    mgr = getattr(rt, "_session_mgr", None)
    storage = getattr(mgr, "_session_storage", None)
    async_objs = getattr(rt, "_async_objs", None)
    if mgr is None or storage is None or async_objs is None:  # not a served runtime (AppTest): nothing
        return 0
    stored = {info.session.id: info.session for info in storage.list()}
    for sid, session in stored.items():
        seen.setdefault(sid, (session, now))
    loop = async_objs.eventloop
    scheduled = 0
    for sid, (session, since) in list(seen.items()):
        if mgr.is_active_session(sid):  # reconnected
            del seen[sid]
        elif sid not in stored or now - since >= ttl_s:
            del seen[sid]
            loop.call_soon_threadsafe(_shut_down, rt, storage, session)
            scheduled += 1
    # a download file is dropped on its second orphan pass: this is that pass
    loop.call_soon_threadsafe(rt.media_file_mgr.remove_orphaned_files)
    return scheduled


def _run() -> None:
    seen: dict[str, tuple[Any, float]] = {}
    while True:
        time.sleep(REAP_INTERVAL_S)
        rt = _runtime()
        if rt is None:
            continue
        try:
            n = sweep(rt, seen, time.monotonic(), _ttl_s())
        except Exception as exc:  # never take the server down; say which kind of failure only
            _log.warning("session reaper pass failed (%s)", type(exc).__name__)
            continue
        if n:
            _log.info("closed %d disconnected session(s) and released their media", n)


def start() -> None:
    """Start the reaper thread once per server process (idempotent; cheap to call on every run)."""
    global _started
    if _started:
        return
    with _start_lock:
        if _started:
            return
        threading.Thread(target=_run, name="posture-session-reaper", daemon=True).start()
        _started = True
