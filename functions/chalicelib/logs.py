"""Structured JSON logs. Only ids, routes, codes and timings are logged: never bodies or identifiers."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

LOGGER_NAME = "treatfirst"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False, sort_keys=True)


def logger() -> logging.Logger:
    log = logging.getLogger(LOGGER_NAME)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = True
    return log


def log(level: int, message: str, **fields: Any) -> None:
    logger().log(level, message, extra={"fields": fields})
