"""In-memory Store with the same transaction semantics as the DynamoDB adapter (for unit tests)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from treatfirst.services.ports import (
    INDEX_ATTRIBUTES,
    INDEXES,
    KEYS,
    CommitFailed,
    Delete,
    Item,
    Page,
    Put,
    Update,
    Write,
)


def _key_of(table: str, item: Mapping[str, Any]) -> tuple[Any, ...]:
    hash_key, range_key = KEYS[table]
    return (item[hash_key], item[range_key]) if range_key else (item[hash_key],)


def check(write: Write, current: Item | None) -> str | None:
    """Why `write` cannot apply to `current` (None when it can). Shared meaning with DynamoDB's conditions."""
    if isinstance(write, Put):
        return "ConditionalCheckFailed" if current is not None and not write.overwrite else None
    if current is None and not (isinstance(write, Update) and write.upsert):
        return "ConditionalCheckFailed"
    for name, expected in write.expect.items():
        if (current or {}).get(name) != expected:
            return "ConditionalCheckFailed"
    if isinstance(write, Update):
        for name, value in write.lacks.items():
            if value in ((current or {}).get(name) or ()):
                return "ConditionalCheckFailed"
        for name, amount in write.add.items():
            if amount < 0 and (current or {}).get(name, 0) + amount < 0:
                return "ConditionalCheckFailed"
    return None


def apply(write: Write, current: Item | None) -> Item | None:
    if isinstance(write, Put):
        return copy.deepcopy(write.item)
    if isinstance(write, Delete):
        return None
    assert current is not None or (isinstance(write, Update) and write.upsert)
    updated = copy.deepcopy(current) if current is not None else dict(write.key)
    for name, amount in write.add.items():
        updated[name] = updated.get(name, 0) + amount
    for name, value in write.set.items():
        if value is None:
            _remove(updated, name)
        else:
            _parent(updated, name)[name.split(".")[-1]] = copy.deepcopy(value)
    for name in write.remove:
        _remove(updated, name)
    return updated


def _parent(item: Item, path: str) -> dict[str, Any]:
    """The map holding the last part of a dotted path; like DynamoDB, the map itself must exist."""
    node: Any = item
    for part in path.split(".")[:-1]:
        if not isinstance(node.get(part), dict):
            raise ValueError(f"the document path {path} is invalid: {part} is not a map")
        node = node[part]
    return node  # type: ignore[no-any-return]


def _remove(item: Item, path: str) -> None:
    parts = path.split(".")
    node: Any = item
    for part in parts[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    node.pop(parts[-1], None)


class MemoryStore:
    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], Item]] = {name: {} for name in KEYS}
        self.lock = threading.Lock()
        self.commits = 0

    def get(self, table: str, key: Mapping[str, Any]) -> Item | None:
        with self.lock:
            item = self.tables[table].get(_key_of(table, key))
            return copy.deepcopy(item) if item is not None else None

    def batch_get(self, table: str, keys: Sequence[Mapping[str, Any]]) -> list[Item]:
        wanted = dict.fromkeys(_key_of(table, k) for k in keys)
        with self.lock:
            found = (self.tables[table].get(k) for k in wanted)
            return [copy.deepcopy(i) for i in found if i is not None]

    def scan(self, table: str, *, limit: int = 100, start: Mapping[str, Any] | None = None) -> Page:
        with self.lock:
            rows = sorted((copy.deepcopy(i) for i in self.tables[table].values()), key=lambda r: _key_of(table, r))
        if start is not None:
            rows = [r for r in rows if _key_of(table, r) > _key_of(table, start)]
        page = rows[:limit]
        return Page(page, {k: page[-1][k] for k in filter(None, KEYS[table])} if len(rows) > limit else None)

    def query(
        self,
        table: str,
        hash_value: str,
        *,
        index: str | None = None,
        limit: int = 100,
        start: Mapping[str, Any] | None = None,
        forward: bool = True,
        until: str | None = None,
    ) -> Page:
        if index:
            idx_table, hash_key, range_key = INDEXES[index]
            assert idx_table == table
        else:
            hash_key, range_key = KEYS[table]
        with self.lock:
            rows = [copy.deepcopy(i) for i in self.tables[table].values() if i.get(hash_key) == hash_value]
        if range_key:
            rows = [r for r in rows if range_key in r and (until is None or r[range_key] <= until)]
            rows.sort(key=lambda r: (r[range_key], _key_of(table, r)), reverse=not forward)
        if start is not None:
            marker = (start[range_key], _key_of(table, start)) if range_key else _key_of(table, start)
            position = [(r[range_key], _key_of(table, r)) if range_key else _key_of(table, r) for r in rows]
            rows = [r for r, p in zip(rows, position, strict=True) if (p > marker if forward else p < marker)]
        if index in INDEX_ATTRIBUTES:  # an INCLUDE projection: keys and the attributes it names, as DynamoDB
            keep = {*filter(None, KEYS[table]), hash_key, range_key, *INDEX_ATTRIBUTES[index]}
            rows = [{k: v for k, v in r.items() if k in keep} for r in rows]
        page, more = rows[:limit], len(rows) > limit
        cursor = None
        if more and page:
            last = page[-1]
            names = {*filter(None, KEYS[table]), hash_key, *([range_key] if range_key else [])}
            cursor = {n: last[n] for n in names}
        return Page(page, cursor)

    def commit(self, writes: Sequence[Write]) -> None:
        with self.lock:
            keys = [_key_of(w.table, w.item if isinstance(w, Put) else w.key) for w in writes]
            if len(set(zip([w.table for w in writes], keys, strict=True))) != len(writes):
                raise ValueError("one transaction touches the same item twice")
            reasons = [check(w, self.tables[w.table].get(k)) for w, k in zip(writes, keys, strict=True)]
            if any(reasons):
                raise CommitFailed(reasons)
            for write, key in zip(writes, keys, strict=True):
                result = apply(write, self.tables[write.table].get(key))
                if result is None:
                    self.tables[write.table].pop(key, None)
                else:
                    self.tables[write.table][key] = result
            self.commits += 1
