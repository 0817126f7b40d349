"""
A minimal leasing worker, run as a separate process by the tests: fetch
with a lease, "work", ack; log every step to a file, one line each.

    python tests/lease_worker.py URL QUEUE LEASE WORK_SECONDS LOGFILE [--hang]

With --hang it takes one job and then sleeps until killed, like a worker
stuck or dying with a job in hand.
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from typing import TextIO


def call(
    method: str, url: str, headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def main() -> None:
    base, queue, lease, work, logfile = sys.argv[1:6]
    hang = "--hang" in sys.argv
    with open(logfile, "a", buffering=1) as log:
        while True:
            try:
                status, headers, _ = call("GET", f"{base}/q/{queue}?lease={lease}")
            except OSError:
                time.sleep(0.1)  # the server is restarting
                continue
            if status != 200:
                time.sleep(0.05 if status == 404 else 0.1)
                continue
            job_id = headers["X-Presque-Job-Id"]
            log.write(f"got {job_id} {headers['X-Presque-Attempt']}\n")
            if hang:
                time.sleep(3600)
            time.sleep(float(work))
            settle(base, queue, job_id, headers["X-Presque-Receipt"], log)


def settle(base: str, queue: str, job_id: str, receipt: str, log: TextIO) -> None:
    """Ack, retrying while the server or Redis is away."""
    while True:
        try:
            status, _, _ = call(
                "DELETE", f"{base}/q/{queue}/{job_id}", {"X-Presque-Receipt": receipt}
            )
        except OSError:
            time.sleep(0.1)
            continue
        if status == 503:
            time.sleep(0.1)
            continue
        log.write(f"{'acked' if status == 204 else f'ack-{status}'} {job_id}\n")
        return


if __name__ == "__main__":
    main()
