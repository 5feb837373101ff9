"""The audit log: one event per request, append-only, hash-chained, verifiable.

Each row holds the event as canonical JSON (sorted keys, no whitespace, ASCII),
``prev_hash`` (the previous row's hash; 64 zeros for the first) and
``hash = sha256(prev_hash + canonical_json)``. Editing, deleting or reordering rows
breaks the chain, which :meth:`AuditLog.verify` recomputes. Triggers refuse UPDATE and
DELETE so that mistakes fail loudly; they do not stop someone who drops them, which is
what the chain is for.

An event never holds PHI or code: counts, rule ids, positions, hashes and paths only.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from guardcode.guardrails.types import Finding

GENESIS_HASH = "0" * 64

AuditDecision = Literal["accept", "warn", "block", "error", "cancelled"]
_DECISIONS = frozenset({"accept", "warn", "block", "error", "cancelled"})
#: the only keys a finding may carry into the audit log (no message, no code)
FINDING_KEYS = frozenset({"rule", "line", "column", "end_line", "end_column"})
# "stage:ExceptionClass" and nothing else: exception messages can quote PHI.
_ERROR_RE = re.compile(r"[a-z][a-z_]*:[A-Za-z_][A-Za-z0-9_.]*")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_ENTITY_RE = re.compile(r"[A-Z][A-Z0-9_]*")
_RULE_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")

# The schema grows by appending to this list; never edit an applied entry. Version N
# is reached by running entries [0, N).
_MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            event TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        )""",
        """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    ),
]
SCHEMA_VERSION = len(_MIGRATIONS)


class AuditError(Exception):
    """The audit database cannot be opened, read or written; names the path."""


@dataclass(frozen=True)
class AuditEvent:
    """What happened to one request. Validated on creation so that no free text (which
    could carry PHI or code) can reach the log through the findings or error fields."""

    time: str
    user: str
    workspace: str
    file_path: str
    method: str
    model: str
    rule_pack_hash: str
    redactions: dict[str, int] = field(default_factory=dict)
    findings: list[dict[str, str | int]] = field(default_factory=list)
    decision: AuditDecision = "accept"
    completion_sha256: str = ""
    error: str = ""
    request_id: str = ""

    def __post_init__(self) -> None:
        if self.decision not in _DECISIONS:
            raise ValueError(f"AuditEvent.decision must be one of {sorted(_DECISIONS)}")
        if self.completion_sha256 and not _SHA256_RE.fullmatch(self.completion_sha256):
            raise ValueError("AuditEvent.completion_sha256 must be a hex SHA-256 or empty")
        if self.error and not _ERROR_RE.fullmatch(self.error):
            raise ValueError("AuditEvent.error must be 'stage:ExceptionClass' or empty")
        if not all(
            isinstance(k, str) and _ENTITY_RE.fullmatch(k) and type(v) is int
            for k, v in self.redactions.items()
        ):
            raise ValueError("AuditEvent.redactions must map entity types to counts")
        for finding in self.findings:
            if set(finding) != FINDING_KEYS:
                raise ValueError(
                    f"AuditEvent.findings entries must have exactly the keys {sorted(FINDING_KEYS)}"
                )
            rule = finding["rule"]
            if not (isinstance(rule, str) and _RULE_ID_RE.fullmatch(rule)) or not all(
                type(finding[k]) is int for k in FINDING_KEYS - {"rule"}
            ):
                raise ValueError("AuditEvent.findings entries must hold a rule id and positions")

    def canonical_json(self) -> str:
        """The event as hashed: sorted keys, no whitespace, ASCII only."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> AuditEvent:
        """An event from its stored JSON; unknown keys (from a newer writer) are ignored."""
        data = json.loads(text)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class AuditVerification:
    """The result of recomputing the hash chain."""

    ok: bool
    count: int
    #: the id of the first row that does not chain (None when ok)
    first_bad_id: int | None = None
    #: the last row's hash; record it elsewhere to detect truncation of the tail
    head_hash: str = GENESIS_HASH


def sha256_text(text: str) -> str:
    """Hex SHA-256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def chain_hash(prev_hash: str, canonical_json: str) -> str:
    """The hash of a row: ``sha256(prev_hash + canonical_json)``."""
    return sha256_text(prev_hash + canonical_json)


def utc_now() -> str:
    """The current time as UTC ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def os_user() -> str:
    """The OS login name, or ``"unknown"`` where there is none (some containers)."""
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def finding_record(finding: Finding) -> dict[str, str | int]:
    """A finding as the audit log keeps it: rule and place (``FINDING_KEYS``), no message."""
    return {
        "rule": finding.rule,
        "line": finding.start_line,
        "column": finding.start_column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
    }


def relative_path(file_path: str | Path, workspace: str | Path) -> str:
    """``file_path`` relative to ``workspace`` where it lies inside it, else as given."""
    try:
        return Path(file_path).relative_to(Path(workspace)).as_posix()
    except ValueError:
        return str(file_path)


class AuditLog:
    """An append-only SQLite audit log at ``path`` (created, with parents, if missing).

    Safe for threads sharing one instance and for processes sharing one file.
    """

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(f"cannot open audit log {self.path}: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.Error as exc:
            self._db.close()
            raise AuditError(
                f"audit log {self.path} is unreadable or not an audit database: {exc}"
            ) from exc

    def _migrate(self) -> None:
        db = self._db
        # IMMEDIATE: two processes opening a new file must not both run migrations.
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = row[0] or 0
            if current > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"schema version {current} is newer than this program's {SCHEMA_VERSION}"
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in _MIGRATIONS[version]:
                    db.execute(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version + 1,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def append(self, event: AuditEvent) -> str:
        """Append ``event`` to the chain; returns the new row's hash."""
        payload = event.canonical_json()
        with self._lock:
            db = self._db
            try:
                # IMMEDIATE takes the write lock before reading the head, so another
                # process cannot append between our read and our insert.
                db.execute("BEGIN IMMEDIATE")
                try:
                    row = db.execute("SELECT hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
                    prev = row[0] if row else GENESIS_HASH
                    digest = chain_hash(prev, payload)
                    db.execute(
                        "INSERT INTO events (event, prev_hash, hash) VALUES (?, ?, ?)",
                        (payload, prev, digest),
                    )
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise AuditError(f"cannot append to audit log {self.path}: {exc}") from exc
        return digest

    def events(self) -> Iterator[AuditEvent]:
        """Every event, oldest first."""
        for row_id, payload, _prev, _hash in self._rows():
            try:
                yield AuditEvent.from_json(payload)
            except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
                raise AuditError(
                    f"audit log {self.path}: event {row_id} is not a valid audit event"
                ) from exc

    def verify(self) -> AuditVerification:
        """Recompute the chain; reports the first row that was edited, removed or moved."""
        expected_prev = GENESIS_HASH
        count = 0
        last_id = 0
        with self._lock:
            db = self._db
            try:
                # One read transaction: a consistent snapshot (WAL), so that appends by
                # other processes meanwhile are neither half-seen nor blocked.
                db.execute("BEGIN")
                try:
                    for row_id, payload, prev, digest in db.execute(
                        "SELECT id, event, prev_hash, hash FROM events ORDER BY id"
                    ):
                        if prev != expected_prev or digest != chain_hash(prev, payload):
                            return AuditVerification(False, count, row_id, expected_prev)
                        expected_prev, last_id = digest, row_id
                        count += 1
                    # AUTOINCREMENT remembers the highest id ever used, so deleting the
                    # last rows leaves a gap that the chain alone cannot show.
                    row = db.execute(
                        "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
                    ).fetchone()
                finally:
                    if db.in_transaction:
                        db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise AuditError(f"cannot read audit log {self.path}: {exc}") from exc
        if row is not None and row[0] != last_id:
            return AuditVerification(False, count, last_id + 1, expected_prev)
        return AuditVerification(True, count, None, expected_prev)

    def _rows(self, batch: int = 500) -> Iterator[tuple[int, str, str, str]]:
        # In batches by id, holding the lock only per batch, so that a long read never
        # stalls appends.
        after = 0
        while True:
            with self._lock:
                try:
                    rows = self._db.execute(
                        "SELECT id, event, prev_hash, hash FROM events WHERE id > ? "
                        "ORDER BY id LIMIT ?",
                        (after, batch),
                    ).fetchall()
                except sqlite3.Error as exc:
                    raise AuditError(f"cannot read audit log {self.path}: {exc}") from exc
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
