"""Publishers of outbox messages: the SNS topic the city's SMS gateway subscribes to, or a local list."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SnsPublisher:
    """Publishes one JSON message per SMS to the reminders topic (format: site, 'SMS gateway messages')."""

    name = "sns"

    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn
        self._client: Any = None

    def publish(self, message: Mapping[str, Any]) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("sns", region_name=self.topic_arn.split(":")[3])
        self._client.publish(
            TopicArn=self.topic_arn,
            Message=json.dumps(message, ensure_ascii=False, sort_keys=True),
            MessageAttributes={
                "message_id": {"DataType": "String", "StringValue": str(message["message_id"])},
                "kind": {"DataType": "String", "StringValue": str(message["kind"])},
                "city_code": {"DataType": "String", "StringValue": str(message["city_code"])},
            },
        )


class LocalPublisher:
    """Locally there is no SMS gateway: a delivered row stays listable (operator route, treatfirst-admin outbox).

    `sent` keeps what was handed over in this process (tests read it)."""

    name = "local"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def publish(self, message: Mapping[str, Any]) -> None:
        self.sent.append(dict(message))
