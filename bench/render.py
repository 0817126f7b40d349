"""
How long the dashboard's overview takes to draw with many queues, in a real
headless Chromium (Debian's, as the tests drive it): from the navigation to
the first 100 queue cards and the totals on screen, the median of L{ROUNDS}
loads. Prints figures; asserts nothing.

    .venv/bin/python -m bench.render [--queues 1000]

It needs redis-server (on PATH, or presque[embedded]'s), chromium and
Playwright (presque[test]).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from harness.chromium import browser_args, chromium
from harness.daemon import Daemon
from harness.redis import RedisServer

ROUNDS = 9
# A function, not an expression: the page's policy forbids evaluating strings.
DRAWN = (
    "() => document.querySelectorAll('article.card').length >= 100"
    " && document.querySelector('#totals dd') !== null"
)


def fill(daemon: Daemon, queues: int) -> None:
    """One job in each of C{queues} queues."""
    for n in range(queues):
        status, _ = daemon.request("POST", f"/q/queue-{n:05d}", {"n": n})
        assert status == 201, status


def render_times(url: str, rounds: int) -> list[float]:
    """Milliseconds from navigation to the drawn overview, for each of C{rounds} loads."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=browser_args())
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for _ in range(rounds):
            page.goto("about:blank")
            page.goto(url + "/")
            page.wait_for_function(DRAWN, timeout=30_000)
            times.append(page.evaluate("performance.now()"))
        browser.close()
    return times


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.render", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--queues", type=int, default=1000, help="queues to create (default 1000)")
    args = parser.parse_args(argv)
    redis = RedisServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="presque-render-") as workdir:
            daemon = Daemon(Path(workdir), "--redis", redis.url).start()
            try:
                daemon.until_redis_answers()
                fill(daemon, args.queues)
                times = render_times(daemon.url, ROUNDS)
            finally:
                daemon.stop()
    finally:
        redis.stop()
    print(
        f"overview with {args.queues} queues: median {statistics.median(times):.0f} ms"
        f" from navigation to 100 cards drawn (min {min(times):.0f}, max {max(times):.0f},"
        f" {ROUNDS} loads)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
