"""
The benchmark's commands to its private Redis, over a bare socket.

Only what it needs to keep append-only file rewrites out of the measurements.
"""

from __future__ import annotations

import socket
import time

from errors import BenchError

REWRITE_TIMEOUT = 300.0


def redis_command(port: int, *args: str) -> str:
    """One command to Redis; its reply as text (a status, an integer or a bulk string)."""
    request = f"*{len(args)}\r\n" + "".join(f"${len(arg)}\r\n{arg}\r\n" for arg in args)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=30) as connection,
        connection.makefile("rb") as replies,
    ):
        connection.sendall(request.encode())
        line = replies.readline().decode().rstrip("\r\n")
        if line.startswith("-"):
            raise BenchError(f"redis: {' '.join(args)}: {line[1:]}")
        if line.startswith("$"):
            size = int(line[1:])
            return "" if size < 0 else replies.read(size + 2)[:-2].decode()
        return line[1:]


def rewrite_pending(port: int) -> bool:
    """Whether Redis is rewriting its append-only file, or about to."""
    info = redis_command(port, "INFO", "persistence")
    return "aof_rewrite_in_progress:1" in info or "aof_rewrite_scheduled:1" in info


def wait_for_rewrite(port: int) -> None:
    """Block until no append-only file rewrite is pending."""
    deadline = time.monotonic() + REWRITE_TIMEOUT
    while rewrite_pending(port):
        if time.monotonic() > deadline:
            raise BenchError(f"redis still rewrites its AOF after {REWRITE_TIMEOUT:.0f}s")
        time.sleep(0.1)


def settle_redis(port: int) -> None:
    """
    Compact the append-only file now, so that no rewrite set off by the
    pre-fill or by an earlier run lands in the next measurement. Rewrites
    that the measured load sets off itself still count, as in production.
    """
    wait_for_rewrite(port)
    redis_command(port, "BGREWRITEAOF")
    wait_for_rewrite(port)
