"""The Chromium the browser tests drive (Debian's package) and the one Playwright per process.

Playwright's sync API allows one running instance per thread: the e2e tier and the
integration tests that drive a real server (faults, scale-out) share the `chromium` fixture
(tests/conftest.py) instead of starting their own, so their order in a process does not matter.
"""
from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
