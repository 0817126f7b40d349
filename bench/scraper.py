"""
A Prometheus stand-in for C{--scrape}: GET /metrics of each daemon every
second while the benchmark runs, as a scraper in production would, so that
the cost of being scraped shows in the figures.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

INTERVAL = 1.0


class Scraper(threading.Thread):
    """Scrapes C{urls} every L{INTERVAL} seconds until stopped; counts its scrapes and failures."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__(daemon=True)
        self.urls = urls
        self.scrapes = 0
        self.failures = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(INTERVAL):
            for url in self.urls:
                try:
                    with urllib.request.urlopen(url, timeout=10) as reply:
                        reply.read()
                    self.scrapes += 1
                except (urllib.error.URLError, OSError):
                    self.failures += 1

    def stop(self) -> None:
        self._done.set()
        self.join()


@contextmanager
def scraping(ports: list[int], notes: list[str]) -> Iterator[None]:
    """Scrape the daemons on C{ports} meanwhile; a note of what was done goes to C{notes}."""
    scraper = Scraper([f"http://127.0.0.1:{port}/metrics" for port in ports])
    scraper.start()
    try:
        yield
    finally:
        scraper.stop()
        notes.append(
            f"scraped /metrics every {INTERVAL:g}s: {scraper.scrapes:,} scrapes,"
            f" {scraper.failures:,} failures"
        )
