"""
What presque counts, for the broker, its scripts, the API and the metrics
alike: the states a job is in, and the totals each queue keeps.
"""

from __future__ import annotations

#: The states a queue's jobs are counted, browsed and sampled in.
STATES = ("ready", "delayed", "leased", "dead", "waiting")

#: What a queue counts since it began, the fields of its stats hash; scripts
#: see the names as C{TOTALS}.
QUEUE_TOTALS: tuple[tuple[str, str], ...] = (
    ("processed", "jobs taken for good or acked (presque 1's notion)"),
    ("failed", "attempts failed by a worker or whose lease ran out"),
    ("retried", "failed jobs made ready again"),
    ("dead", "jobs sent to the dead letters"),
    ("enqueued", "jobs stored by a post"),
    ("delivered", "jobs handed out, leased or for good"),
    ("acked", "leased jobs acknowledged"),
    ("expired", "leases that ran out"),
)
