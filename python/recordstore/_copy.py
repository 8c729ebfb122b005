"""``recordstore.copy``: copy schemas between stores, safely enough for a migration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from . import _native

__all__ = ["copy", "CopyReport", "SchemaReport", "VerifyReport", "Problem"]


@dataclass(frozen=True)
class Problem:
    """A record that did not arrive (or differs), and why."""

    key: str
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify=True`` found in one schema."""

    source_count: int
    destination_count: int
    compared: int
    differences: List[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether the destination holds every source record, equal, and no more."""
        return not self.differences and self.source_count == self.destination_count


@dataclass(frozen=True)
class SchemaReport:
    """The outcome for one schema: read, written, skipped (present and equal), conflicting
    (present and different, left unchanged), failed (unreadable or refused)."""

    schema: str
    read: int
    written: int
    skipped: int
    conflicting: List[Problem] = field(default_factory=list)
    failed: List[Problem] = field(default_factory=list)
    verify: Optional[VerifyReport] = None

    @property
    def complete(self) -> bool:
        """Whether every source record is at the destination, equal."""
        return (
            not self.conflicting
            and not self.failed
            and (self.verify is None or self.verify.clean)
        )


@dataclass(frozen=True)
class CopyReport:
    """The outcome of :func:`copy`, one :class:`SchemaReport` per schema; ``str()`` of it is
    the CLI's summary table."""

    schemas: List[SchemaReport]
    summary: str

    @property
    def complete(self) -> bool:
        """Whether every record of every schema arrived, equal."""
        return all(s.complete for s in self.schemas)

    def __str__(self) -> str:
        return self.summary


def _problems(items: Iterable[Tuple[str, str]]) -> List[Problem]:
    return [Problem(key, reason) for key, reason in items]


def _schema(d: Dict[str, Any]) -> SchemaReport:
    v = d["verify"]
    verify = (
        VerifyReport(
            v["source_count"],
            v["destination_count"],
            v["compared"],
            _problems(v["differences"]),
        )
        if v is not None
        else None
    )
    return SchemaReport(
        d["schema"],
        d["read"],
        d["written"],
        d["skipped"],
        _problems(d["conflicting"]),
        _problems(d["failed"]),
        verify,
    )


def copy(
    source: str,
    destination: str,
    schemas: Optional[Iterable[str]] = None,
    *,
    on_conflict: str = "fail",
    on_error: str = "stop",
    verify: bool = False,
) -> CopyReport:
    """Copies schemas from the store at ``source`` to the store at ``destination`` (URLs, as
    for :func:`recordstore.open`), as ``recordstore copy`` does.

    The destination is checked before anything is read, and a source that does not exist is
    an error (a missing SQLite file is never created). ``sqlite+peer://PATH`` reads
    event-pipeline's own SQLite store. A record the destination already holds, equal, is
    skipped, so running the same copy again finishes an interrupted one.

    Args:
        schemas: the schemas to copy; all of the source's when ``None``.
        on_conflict: a key the destination holds with a different record: ``"fail"`` stops
            the copy, ``"skip"`` leaves it and lists it, ``"overwrite"`` replaces it.
        on_error: a record that cannot be read or written: ``"stop"`` or ``"skip"`` (listed
            with its key and reason).
        verify: afterwards, read every record back from both stores and compare.

    Returns:
        The report; ``report.complete`` says whether every record arrived.

    Raises:
        RecordStoreError: the subclass of the error that stopped the copy (an unreachable
            store, a conflict with ``on_conflict="fail"``, a bad record with
            ``on_error="stop"``), with the report so far as its ``report`` attribute.
    """
    names = [] if schemas is None else list(schemas)
    if isinstance(schemas, str):
        raise TypeError("schemas must be a list of schema names, not one string")
    rows, summary, stopped = _native.copy(
        source, destination, names, on_conflict, on_error, verify
    )
    report = CopyReport([_schema(r) for r in rows], summary)
    if stopped is not None:
        setattr(stopped, "report", report)
        raise stopped
    return report
