"""
Nonces, from which a delivery's receipts are made: 24 hexadecimal digits
of os.urandom's bytes, never twice the same, not even in a forked process.
"""

from __future__ import annotations

import os
import re

from presque.broker.keys import NONCE_BYTES, new_nonce


def test_a_nonce_is_24_hexadecimal_digits() -> None:
    assert re.fullmatch(r"[0-9a-f]{24}", new_nonce())
    assert NONCE_BYTES * 2 == 24


def test_nonces_never_repeat_across_many_reads_of_randomness() -> None:
    nonces = [new_nonce() for _ in range(10_000)]
    assert len(set(nonces)) == len(nonces)


def test_a_forked_process_does_not_hand_out_its_parents_nonces() -> None:
    new_nonce()
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(writing, new_nonce().encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    with os.fdopen(reading, "rb") as pipe:
        childs = pipe.read().decode()
    assert childs != new_nonce()
