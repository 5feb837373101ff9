"""The audit log: appending, the hash chain, tampering, concurrency, and no PHI."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from guardcode.guardrails.audit import (
    FINDING_KEYS,
    GENESIS_HASH,
    AuditError,
    AuditEvent,
    AuditLog,
    chain_hash,
    finding_record,
    relative_path,
    sha256_text,
)
from guardcode.guardrails.check import check_completion


def _event(n: int = 0, **changes: object) -> AuditEvent:
    base = AuditEvent(
        time="2026-01-02T03:04:05.678+00:00",
        user="tester",
        workspace="/work/space",
        file_path="src/app.py",
        method="textDocument/inlineCompletion",
        model="smollm2-135m",
        rule_pack_hash="a" * 64,
        redactions={"US_SSN": 1},
        findings=[{"rule": "phi-in-log", "line": 3, "column": 4, "end_line": 3, "end_column": 9}],
        decision="block",
        completion_sha256=sha256_text(f"completion {n}"),
        error="",
        request_id=f"req-{n}",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "nested" / "dir" / "audit.sqlite3")


def _raw(log: AuditLog) -> sqlite3.Connection:
    db = sqlite3.connect(log.path, isolation_level=None)
    # a tamperer can drop the append-only triggers; the chain must still tell
    db.execute("DROP TRIGGER events_no_update")
    db.execute("DROP TRIGGER events_no_delete")
    return db


def test_sha256_text() -> None:
    assert sha256_text("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_append_and_verify(log: AuditLog) -> None:
    assert log.path.parent.is_dir()
    assert log.verify().ok and log.verify().count == 0
    hashes = [log.append(_event(n)) for n in range(5)]
    assert len(set(hashes)) == 5
    result = log.verify()
    assert (result.ok, result.count, result.first_bad_id) == (True, 5, None)
    assert result.head_hash == hashes[-1]
    assert [e.request_id for e in log.events()] == [f"req-{n}" for n in range(5)]
    assert next(iter(log.events())) == _event(0)


def test_chain_layout(log: AuditLog) -> None:
    first = log.append(_event(0))
    second = log.append(_event(1))
    rows = (
        sqlite3.connect(log.path)
        .execute("SELECT event, prev_hash, hash FROM events ORDER BY id")
        .fetchall()
    )
    assert rows[0][1] == GENESIS_HASH == "0" * 64
    assert rows[0][2] == first == chain_hash(GENESIS_HASH, rows[0][0])
    assert rows[1][1] == first and rows[1][2] == second
    # canonical JSON: sorted keys, no whitespace
    assert rows[0][0] == json.dumps(json.loads(rows[0][0]), sort_keys=True, separators=(",", ":"))
    assert rows[0][0] == _event(0).canonical_json()


def test_wal_and_schema_version(log: AuditLog) -> None:
    db = sqlite3.connect(log.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 1


def test_reopen_continues_the_chain(log: AuditLog) -> None:
    log.append(_event(0))
    log.close()
    again = AuditLog(log.path)
    again.append(_event(1))
    assert again.verify().ok and again.verify().count == 2


def test_triggers_refuse_update_and_delete(log: AuditLog) -> None:
    log.append(_event(0))
    db = sqlite3.connect(log.path, isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE events SET event = '{}'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM events")


def test_edited_row_is_detected(log: AuditLog) -> None:
    for n in range(4):
        log.append(_event(n))
    db = _raw(log)
    edited = _event(2, decision="accept").canonical_json()
    db.execute("UPDATE events SET event = ? WHERE id = 3", (edited,))
    result = log.verify()
    assert (result.ok, result.first_bad_id, result.count) == (False, 3, 2)


def test_deleted_row_is_detected(log: AuditLog) -> None:
    for n in range(4):
        log.append(_event(n))
    _raw(log).execute("DELETE FROM events WHERE id = 2")
    result = log.verify()
    assert (result.ok, result.first_bad_id) == (False, 3)


def test_deleted_last_row_is_detected(log: AuditLog) -> None:
    for n in range(3):
        log.append(_event(n))
    _raw(log).execute("DELETE FROM events WHERE id = 3")
    result = log.verify()
    assert (result.ok, result.first_bad_id, result.count) == (False, 3, 2)


def test_reordered_rows_are_detected(log: AuditLog) -> None:
    for n in range(4):
        log.append(_event(n))
    db = _raw(log)
    # swap rows 2 and 3 by id, keeping each row's own content and hashes
    db.execute("UPDATE events SET id = 100 WHERE id = 2")
    db.execute("UPDATE events SET id = 2 WHERE id = 3")
    db.execute("UPDATE events SET id = 3 WHERE id = 100")
    result = log.verify()
    assert (result.ok, result.first_bad_id) == (False, 2)


def test_threads_appending(log: AuditLog) -> None:
    def work(worker: int) -> None:
        for n in range(25):
            log.append(_event(worker * 100 + n))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = log.verify()
    assert (result.ok, result.count) == (True, 200)


def test_processes_appending(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    script = textwrap.dedent(
        f"""
        import sys
        from guardcode.guardrails.audit import AuditEvent, AuditLog
        log = AuditLog({str(path)!r})
        for n in range(40):
            log.append(AuditEvent(time="t", user="u", workspace="w", file_path="f",
                                  method="cli/complete", model="m", rule_pack_hash="h",
                                  request_id=sys.argv[1] + str(n)))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, f"p{i}-"]) for i in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    result = AuditLog(path).verify()
    assert (result.ok, result.count) == (True, 120)


def test_unreadable_database_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AuditError, match=r"garbage\.sqlite3"):
        AuditLog(path)


def test_directory_as_path_is_an_audit_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match=str(tmp_path.name)):
        AuditLog(tmp_path)


def test_newer_schema_is_refused(log: AuditLog) -> None:
    sqlite3.connect(log.path, isolation_level=None).execute(
        "INSERT INTO schema_version (version) VALUES (99)"
    )
    with pytest.raises(AuditError, match="newer"):
        AuditLog(log.path)


def test_corrupt_event_json_is_an_audit_error(log: AuditLog) -> None:
    log.append(_event(0))
    _raw(log).execute("UPDATE events SET event = 'not json'")
    with pytest.raises(AuditError, match="event 1"):
        list(log.events())
    assert not log.verify().ok


def test_event_has_no_room_for_text() -> None:
    names = {f.name for f in dataclasses.fields(AuditEvent)}
    assert names == {
        "time",
        "user",
        "workspace",
        "file_path",
        "method",
        "model",
        "rule_pack_hash",
        "redactions",
        "findings",
        "decision",
        "completion_sha256",
        "error",
        "request_id",
    }
    assert {"rule", "line", "column", "end_line", "end_column"} == FINDING_KEYS


@pytest.mark.parametrize(
    "changes",
    [
        {
            "findings": [
                {
                    "rule": "phi-in-log",
                    "line": 1,
                    "column": 0,
                    "end_line": 1,
                    "end_column": 2,
                    "message": "ssn 912-34-5678",
                }
            ]
        },
        {"error": "check:ValueError: bad ssn 912-34-5678"},
        {"completion_sha256": "logger.info(patient.ssn)"},
        {"decision": "maybe"},
        {"redactions": {"US_SSN": "912-34-5678"}},
        {"redactions": {"Jane Placeholder": 1}},
        {
            "findings": [
                {"rule": "ssn 912-34-5678", "line": 1, "column": 0, "end_line": 1, "end_column": 2}
            ]
        },
        {
            "findings": [
                {
                    "rule": "phi-in-log",
                    "line": "patient.ssn",
                    "column": 0,
                    "end_line": 1,
                    "end_column": 2,
                }
            ]
        },
    ],
)
def test_event_refuses_free_text(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _event(0, **changes)


def test_event_from_a_real_check_holds_no_phi_or_code(log: AuditLog) -> None:
    completion = 'logger.info("record %s", patient.ssn)  # 912-34-5678\n'
    findings = check_completion("python", "", completion, "")
    assert findings
    event = _event(
        0,
        findings=[finding_record(f) for f in findings],
        completion_sha256=sha256_text(completion),
        error="check:ValueError",
    )
    log.append(event)
    stored = sqlite3.connect(log.path).execute("SELECT event FROM events").fetchone()[0]
    for text in ("patient", "ssn", "912-34-5678", "logger", "record"):
        assert text not in stored


def test_relative_path() -> None:
    assert relative_path("/work/space/src/app.py", "/work/space") == "src/app.py"
    finding = check_completion("python", "", "print(patient.ssn)\n", "")[0]
    assert set(finding_record(finding)) == FINDING_KEYS
    assert relative_path("/elsewhere/app.py", "/work/space") == "/elsewhere/app.py"
