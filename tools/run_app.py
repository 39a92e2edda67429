#!/usr/bin/env python3
"""``streamlit run app.py ARGS...`` with Streamlit's external-IP lookup switched off.

Streamlit's WebSocket origin check, for an Origin that is neither this page's host nor localhost
(e.g. ``Origin: null`` from a sandboxed page), asks http(s)://checkip.amazonaws.com for the
machine's external IP (streamlit/web/server/server_util.py, is_url_from_allowed_origins). No
config option skips that lookup except ``server.enableCORS = false``, which would accept WebSockets
from ANY origin. So this launcher pre-fills the lookup's cache with 127.0.0.1, an address the check
already allows: no request is ever made and no origin gains access.

    .venv/bin/python tools/run_app.py --server.port 8501
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINNED_EXTERNAL_IP = "127.0.0.1"


def main() -> None:
    import streamlit.net_util as net_util
    from streamlit.web import cli

    net_util._external_ip = PINNED_EXTERNAL_IP
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
