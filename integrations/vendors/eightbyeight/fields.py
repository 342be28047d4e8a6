"""Field names of the 8x8 payloads, in one place.

8x8 publishes the real-time (rtstats) field names only in pages we could not read in full; the
names below are those public wallboard code uses [CODE]. The interaction record names of the
legacy Statistics Reporting API are INFERRED (the docs name `processtime` and `postprocess`
among the 25 lagging interaction columns; the rest follow the same lower-case, hyphenated
style). These are the defaults: a connection whose payload names a field otherwise renames it
in its field map (`options["field_map"]`, keys in `vendor.EightByEight.default_field_map`), and
every list may also come as a bare JSON array.
"""

from __future__ import annotations

# rtstats/stats/agents.json: {"agent": [ {...}, ... ]} (one agent may come as an object).
AGENT_LIST = "agent"
AGENT_ID = "agent-id"
AGENT_NAME = "agent-name"
AGENT_GROUP = "group-id"
AGENT_STATUS = "agent-status"
AGENT_TIME_IN_STATUS = "time-in-status"  # seconds in the current status

# rtstats/stats/queues.json: {"queue": [ {...}, ... ]}
QUEUE_LIST = "queue"
QUEUE_ID = "queue-id"
QUEUE_NAME = "queue-name"

# stats/queues/{queue-id}/interactions.json: {"statistics": {"statistic": [ {...} ]}},
# or {"statistics": ""} when there is no data.
STATISTICS = "statistics"
STATISTIC = "statistic"
TRANSACTION_ID = "transaction-id"
RECORD_QUEUE_ID = "queue-id"
TIME_ENTERED = "time-entered"  # epoch milliseconds UTC, when the interaction entered the queue
ABANDONED = "abandoned"  # "Y" / "N"
PROCESS_TIME = "processtime"  # seconds (a string); empty for about 1 h after acceptance
POST_PROCESS = "postprocess"  # seconds (a string); empty for about 1 h after acceptance
