"""The sweep's fan-out queue: one message per shard (SQS on AWS)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


class SqsQueue:
    def __init__(self, url: str) -> None:
        import boto3  # only where a queue is used

        self.url = url
        self.client: Any = boto3.client("sqs")

    def send_all(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Send every message (10 per request, the most SQS takes); a partial failure raises, so the schedule's
        run fails and is retried (a shard swept twice changes nothing)."""
        for i in range(0, len(messages), 10):
            batch = messages[i : i + 10]
            answer = self.client.send_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(n), "MessageBody": json.dumps(m, sort_keys=True)} for n, m in enumerate(batch)],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"{len(answer['Failed'])} sweep messages were not queued")
