"""The command line, run as users run it: a subprocess, exit codes, stdout, stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SSN

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "clinic_service" / "records.py"


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guardcode.server.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env=env,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "replies.jsonl").write_text('{"text": "return len(visits)"}\n', encoding="utf-8")
    (tmp_path / ".guardcode.toml").write_text(
        '[model]\nbackend = "replay"\nreplay_file = "replies.jsonl"\n'
        'replay_prompt_log = "prompts.jsonl"\n[audit]\npath = "audit.db"\n',
        encoding="utf-8",
    )
    (tmp_path / "svc.py").write_text(
        f'SSN = "{SSN}"\ndef visits(patient):\n    visits = []\n    \n', encoding="utf-8"
    )
    return tmp_path


def test_complete_json_reports_what_the_guardrails_did(workspace: Path) -> None:
    result = run(
        "complete", str(workspace / "svc.py"), "--line", "4", "--column", "5", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["completion"] == "return len(visits)"
    assert answer["decision"] == "accept"
    assert answer["redactions"] == {"US_SSN": 1}
    assert answer["model"] == "replay:replies.jsonl"
    assert set(answer["timings_ms"]) >= {"redact", "model", "check", "total"}
    assert SSN not in (workspace / "prompts.jsonl").read_text(encoding="utf-8")

    # each run is a new process, so the replay starts over: point it at the second reply
    (workspace / "replies.jsonl").write_text(
        '{"text": "print(patient[\\"ssn\\"])"}\n', encoding="utf-8"
    )
    blocked = json.loads(
        run(
            "complete",
            str(workspace / "svc.py"),
            "--line",
            "4",
            "--column",
            "5",
            "--format",
            "json",
        ).stdout
    )
    assert (blocked["completion"], blocked["decision"]) == ("", "block")
    [finding] = blocked["findings"]
    # the finding covers the PHI value inside the call: print(|patient["ssn"]|)
    assert (finding["rule"], finding["line"], finding["column"]) == ("phi-in-log", 4, 11)
    assert run("audit", "verify", "--config", str(workspace / ".guardcode.toml")).returncode == 0


def test_complete_text_format(workspace: Path) -> None:
    result = run("complete", str(workspace / "svc.py"), "--line", "4", "--column", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("return len(visits)\n---\ndecision: accept")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--line", "40", "--column", "1"], 1, "line 40 is outside the file"),
        (["--line", "1", "--column", "99"], 1, "column 99 is outside the line"),
    ],
)
def test_positions_outside_the_file(
    workspace: Path, args: list[str], code: int, message: str
) -> None:
    result = run("complete", str(workspace / "svc.py"), *args)
    assert (result.returncode, result.stdout) == (code, "")
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_file_and_undecodable_file(workspace: Path) -> None:
    missing = run("complete", str(workspace / "nope.py"), "--line", "1", "--column", "1")
    assert missing.returncode == 1 and "no such file" in missing.stderr
    (workspace / "latin.py").write_bytes(b"name = '\xe9\xff'\n")
    odd = run("complete", str(workspace / "latin.py"), "--line", "1", "--column", "1")
    assert odd.returncode == 1 and "not UTF-8" in odd.stderr


def test_backend_down_is_one_line_exit_1(workspace: Path) -> None:
    (workspace / "replies.jsonl").unlink()
    result = run("complete", str(workspace / "svc.py"), "--line", "4", "--column", "5")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "replies.jsonl" in result.stderr


def test_broken_config_is_file_line_and_exit_2(workspace: Path) -> None:
    (workspace / ".guardcode.toml").write_text('[model]\nbackend = "replay\n', encoding="utf-8")
    result = run("complete", str(workspace / "svc.py"), "--line", "4", "--column", "5")
    assert result.returncode == 2
    assert result.stderr.startswith(f"guardcode: {workspace / '.guardcode.toml'}:2:")


def test_usage_error_is_exit_2() -> None:
    assert run("complete").returncode == 2


def test_config_show_names_each_source(workspace: Path) -> None:
    result = run("config", "show", "--config", str(workspace / ".guardcode.toml"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f'model.backend = "replay"  # workspace:{workspace / ".guardcode.toml"}' in lines
    assert 'rules.phi-in-log.action = "block"  # default' in lines


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["complete"], ["config", "show"], ["audit", "verify"]]
)
def test_help_on_every_command(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0 and "usage: guardcode" in result.stdout
