"""
The Chromium that the page's tests and its benchmark drive: Debian's
(which .ci/run installs), never a browser Playwright downloads.
"""

from __future__ import annotations

import os
import shutil

# Without the networking flags Chromium keeps trying Google's hosts, which
# this closed network refuses; as root it needs --no-sandbox.
_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The Chromium to drive: $PRESQUE_CHROMIUM, else the one on PATH."""
    found = os.environ.get("PRESQUE_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise RuntimeError("no chromium on PATH: .ci/run installs Debian's chromium package")
    return found


def browser_args() -> list[str]:
    """The flags Chromium runs with here."""
    return list(_FLAGS)
