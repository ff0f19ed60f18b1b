"""The dashboard's ASGI app: the same pages as `streamlit run app.py`, served through Streamlit's `st.App`
so that every HTTP response carries headers that forbid other sites to frame the dashboard
(clickjacking): `X-Frame-Options: DENY` for older browsers, `Content-Security-Policy: frame-ancestors
'none'` for the rest. serve.py (what `make run` does) runs it; `streamlit run asgi.py` does too.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

FRAME_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)


class NoFraming:
    """ASGI middleware: adds FRAME_HEADERS to every HTTP response (websocket traffic passes untouched)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in FRAME_HEADERS if name not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


app = st.App(str(Path(__file__).resolve().parent / "app.py"), middleware=[Middleware(NoFraming)])
