"""
The body and the answer of C{POST /qb/Q/settle}, which settles many leased
jobs at once (as SQS's DeleteMessageBatch):

    {"acks":  [{"id": ID, "receipt": R, "result": <any JSON>}, ...],
     "fails": [{"id": ID, "receipt": R, "error": "...", "delay": S, "dead": false}, ...]}

Each entry takes what the route settling one job takes (its result, its
error, C{delay} and C{dead}, there query arguments); only C{id} and
C{receipt} are required. The whole body is checked before anything is
settled: a refusal settles nothing. The answer tells of each job, settled
or refused and why, with the words of the single routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from presque.broker import Ack, Fail, Settled, StaleReceipt, UnknownJob
from presque.web.errors import OUTCOMES, ApiError
from presque.web.inputs import DELAY, RECEIPT, check_text
from presque.web.job_inputs import compact_result, kept_error
from presque.web.jsontext import read_json

#: The longest job id an entry may name (presque's own are far shorter: see
#: presque.broker.keys.JOB_ID_LENGTH and HEX_JOB_ID_LENGTH).
MAX_ID_LENGTH = 128

_SHAPE = 'the body must be {"acks": [...], "fails": [...]}'
_ACK_FIELDS = frozenset(("id", "receipt", "result"))
_FAIL_FIELDS = frozenset(("id", "receipt", "error", "delay", "dead"))
#: The refusals of one job, as the single routes answer them.
_REFUSED = {
    "unknown": OUTCOMES[UnknownJob],
    "stale": OUTCOMES[StaleReceipt],
}


def settlements(text: bytes, most: int, max_result_size: int) -> tuple[list[Ack], list[Fail]]:
    """
    The acks and failures of a body, at most C{most} of them in all, each
    result at most C{max_result_size} bytes.

    @raise ApiError: 400 (not such a body, more than C{most} entries, an id
        named twice), 413 (a result too large).
    """
    if not text.strip():
        raise ApiError(400, _SHAPE)
    document = read_json(text, "body")
    if not isinstance(document, dict) or set(document) - {"acks", "fails"}:
        raise ApiError(400, _SHAPE)
    listed = {name: document.get(name, []) for name in ("acks", "fails")}
    for name, entries in listed.items():
        if not isinstance(entries, list):
            raise ApiError(400, f'{name} must be an array of {{"id": ..., "receipt": ...}}')
    if len(listed["acks"]) + len(listed["fails"]) > most:
        raise ApiError(400, f"a batch settles at most {most} jobs")
    acks = [_ack(entry, f"acks[{i}]", max_result_size) for i, entry in enumerate(listed["acks"])]
    fails = [_fail(entry, f"fails[{i}]") for i, entry in enumerate(listed["fails"])]
    _refuse_repeats([entry.id for entry in (*acks, *fails)])
    return acks, fails


def _entry(entry: Any, what: str, fields: frozenset[str]) -> tuple[str, str]:
    """The id and receipt of an entry C{what} with no other members than C{fields}."""
    if not isinstance(entry, dict):
        raise ApiError(400, f'{what} must be an object {{"id": ..., "receipt": ...}}')
    unknown = sorted(set(entry) - fields)
    if unknown:
        raise ApiError(400, f"{what} has an unknown member: {unknown[0][:100]}")
    job_id = _text(entry, "id", what, MAX_ID_LENGTH)
    receipt = _text(entry, "receipt", what, RECEIPT.longest)
    return job_id, receipt


def _text(entry: dict[str, Any], name: str, what: str, longest: int) -> str:
    value = entry.get(name)
    if value is None:
        raise ApiError(400, f"{what}.{name} is missing")
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"{what}.{name} must be a non-empty string")
    check_text(value, f"{what}.{name}", longest)
    return value


def _ack(entry: Any, what: str, max_result_size: int) -> Ack:
    job_id, receipt = _entry(entry, what, _ACK_FIELDS)
    result = None
    if "result" in entry:
        result = compact_result(entry["result"], max_result_size, f"{what}.result")
    return Ack(job_id, receipt, result)


def _fail(entry: Any, what: str) -> Fail:
    job_id, receipt = _entry(entry, what, _FAIL_FIELDS)
    error = entry.get("error", "")
    if not isinstance(error, str):
        raise ApiError(400, f"{what}.error must be a string")
    dead = entry.get("dead", False)
    if not isinstance(dead, bool):
        raise ApiError(400, f"{what}.dead must be true or false")
    return Fail(job_id, receipt, kept_error(error), _delay(entry.get("delay"), what), dead)


def _delay(value: Any, what: str) -> float | None:
    """A failure's C{delay}, by the rule of the single route's C{delay=S}."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f"{what}.delay must be a number of seconds")
    try:
        return DELAY.parse(repr(value))
    except ApiError as refusal:
        raise ApiError(400, f"{what}.{refusal.message}") from None


def _refuse_repeats(ids: Sequence[str]) -> None:
    """Each job is settled once: an id named twice is surely a mistake of the worker's."""
    seen: set[str] = set()
    for job_id in ids:
        if job_id in seen:
            raise ApiError(400, f"job {job_id} is named more than once: settle each job once")
        seen.add(job_id)


def settle_document(outcomes: Sequence[Settled]) -> dict[str, list[dict[str, Any]]]:
    """
    The answer: C{settled}, each job settled with its new state (C{done},
    C{delayed} with its C{next_run}, or C{dead}); C{refused}, each job left
    as it was, with the status and the error the single route answers.
    """
    settled, refused = [], []
    for outcome in outcomes:
        if outcome.refused:
            status, message = _REFUSED[outcome.outcome]
            refused.append({"id": outcome.id, "status": status, "error": message})
        else:
            settled.append(
                {"id": outcome.id, "state": outcome.outcome, "next_run": outcome.retry_at}
            )
    return {"settled": settled, "refused": refused}
