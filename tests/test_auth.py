"""presque.auth: tokens as configured, what they allow, and finding one by its secret."""

from __future__ import annotations

import hashlib

import pytest

from presque.auth import Authority, Token, new_secret, token_from_section, token_section


def section(**keys: str) -> dict[str, str]:
    return {"sha256": "ab" * 32, "scopes": "produce", "queues": "*", **keys}


def test_a_token_is_read_from_its_section() -> None:
    token = token_from_section("billing", section(scopes="produce consume", queues="inv reports-*"))
    assert token == Token(
        "billing", bytes.fromhex("ab" * 32), frozenset({"produce", "consume"}), ("inv", "reports-*")
    )


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"sha256": "nothex"}, "sha256: must be 64 hex digits"),
        ({"sha256": ""}, "sha256: missing"),
        ({"scopes": "produce delete"}, "unknown scope 'delete'"),
        ({"queues": " "}, "queues: missing"),
        ({"secret": "x"}, "secret: unknown key"),
    ],
)
def test_a_bad_token_section_is_refused_saying_why(keys: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        token_from_section("billing", section(**keys))


def test_a_token_name_is_short_and_plain() -> None:
    with pytest.raises(ValueError, match="a token's name"):
        token_from_section("has space", section())


def test_a_token_allows_its_scopes_on_its_queues_only() -> None:
    token = token_from_section("t", section(scopes="consume", queues="mail reports-*"))
    assert token.allows("consume", "mail") and token.allows("consume", "reports-daily")
    assert not token.allows("consume", "mailer")
    assert not token.allows("produce", "mail")


def test_a_route_about_every_queue_needs_a_token_for_every_queue() -> None:
    assert not token_from_section("t", section(scopes="read", queues="mail")).allows("read", None)
    assert token_from_section("t", section(scopes="read", queues="*")).allows("read", None)


def test_a_secret_finds_its_token_by_its_digest() -> None:
    secret = new_secret()
    token = token_from_section("t", section(sha256=hashlib.sha256(secret.encode()).hexdigest()))
    other = token_from_section("o", section())
    authority = Authority([other, token])
    assert authority.identify(secret) is token
    assert authority.identify(secret + "x") is None
    assert authority.identify("") is None


def test_fresh_secrets_differ_and_are_long() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100 and min(len(s) for s in secrets) >= 43


def test_the_section_of_a_new_token_configures_it() -> None:
    secret = new_secret()
    text = token_section("billing", secret, ["produce"], ["invoices"])
    keys = dict(line.split(" = ", 1) for line in text.splitlines()[1:])
    assert text.startswith("[token:billing]\n")
    token = token_from_section("billing", keys)
    assert Authority([token]).identify(secret) is token
    assert secret not in text
