"""``recordstore.copy``: the CLI's copy engine from Python, on real stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import recordstore
from conftest import REDIS, unique


def fill(url: str, n: int, schema: str = "s") -> None:
    store = recordstore.open(url)
    store.insert_many(schema, [(f"k{i:03}", {"n": i}) for i in range(n)])
    store.close()


def test_copy_to_redis_verified_and_rerun_skips(tmp_path: Path) -> None:
    src = f"sqlite://{tmp_path / 'src.db'}"
    fill(src, 700)
    dst = f"redis://{REDIS}/0?prefix={unique('copy')}"
    report = recordstore.copy(src, dst, verify=True)
    assert report.complete
    (s,) = report.schemas
    assert (s.schema, s.read, s.written, s.skipped) == ("s", 700, 700, 0)
    assert s.verify is not None and s.verify.clean and s.verify.compared == 700
    assert "verified: 700 records, all equal" in str(report)
    again = recordstore.copy(src, dst, ["s"])
    assert (again.schemas[0].written, again.schemas[0].skipped) == (0, 700)
    assert recordstore.open(dst).get("s", "k123") == {"n": 123}


def test_conflicts_and_corrupt_records(tmp_path: Path) -> None:
    src = f"sqlite://{tmp_path / 'src.db'}"
    fill(src, 10)
    conn = sqlite3.connect(tmp_path / "src.db")
    conn.execute("UPDATE records SET doc = '{bad' WHERE key = 'k004'")
    conn.commit()
    conn.close()
    dst = f"sqlite://{tmp_path / 'dst.db'}"
    recordstore.open(dst).insert("s", "k007", {"n": -7})

    with pytest.raises(recordstore.Corrupt) as stopped:
        recordstore.copy(src, dst)
    assert stopped.value.key == "k004"
    partial = getattr(stopped.value, "report")
    assert partial.schemas[0].written == 4 and not partial.complete

    report = recordstore.copy(src, dst, on_error="skip", on_conflict="skip")
    (s,) = report.schemas
    assert not report.complete
    assert [p.key for p in s.failed] == ["k004"] and "corrupt" in s.failed[0].reason
    assert [p.key for p in s.conflicting] == ["k007"]
    assert recordstore.open(dst).get("s", "k007") == {"n": -7}

    report = recordstore.copy(src, dst, on_error="skip", on_conflict="overwrite")
    assert recordstore.open(dst).get("s", "k007") == {"n": 7}
    assert report.schemas[0].written == 1


def test_missing_source_and_unreachable_destination(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(recordstore.ConfigurationError, match="does not exist"):
        recordstore.copy(f"sqlite://{missing}", f"sqlite://{tmp_path / 'd.db'}")
    assert not missing.exists()
    src = f"sqlite://{tmp_path / 'src.db'}"
    fill(src, 3)
    with pytest.raises(ConnectionError):
        recordstore.copy(src, "redis://127.0.0.1:1/0")
    with pytest.raises(recordstore.InvalidInput, match="on-conflict"):
        recordstore.copy(src, "memory://", on_conflict="replace")
