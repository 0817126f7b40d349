"""
Nonces, from which a delivery's receipts are made: 24 hexadecimal digits
of os.urandom's bytes, never twice the same, not even in a forked process.
"""

from __future__ import annotations

import re

from presque.broker.keys import NONCE_BYTES, new_nonce
from tests.support import in_a_forked_child


def test_a_nonce_is_24_hexadecimal_digits() -> None:
    assert re.fullmatch(r"[0-9a-f]{24}", new_nonce())
    assert NONCE_BYTES * 2 == 24


def test_nonces_never_repeat_across_many_reads_of_randomness() -> None:
    nonces = [new_nonce() for _ in range(10_000)]
    assert len(set(nonces)) == len(nonces)


def test_a_forked_process_does_not_hand_out_its_parents_nonces() -> None:
    new_nonce()
    assert in_a_forked_child(new_nonce) != new_nonce()
