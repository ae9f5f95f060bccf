"""`python -m bot export`: the cases a list's words find, streamed as CSV or JSON lines to
standard output by a process of its own on the tests' database, which needs no Slack."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert

from db.models import Ticket

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def seed(engine: Engine, count: int) -> None:
    rows = [
        {
            "campaign": "Billing", "issue_type": "Bug", "priority": ("high", "medium", "low")[i % 3],
            "status": ("open", "resolved")[i % 2], "title": f"Invoice {i}, \"quoted\"", "details": f"line one\nline {i}",
            "reporter_id": f"U0SEED{i:04d}", "assignee_id": None, "source": "slack_form", "source_key": f"seed:{i}",
            "created_at": START + timedelta(minutes=i), "updated_at": START + timedelta(minutes=i), "version": 1,
        }
        for i in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Ticket), rows)


def export(engine: Engine, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "export", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_csv_has_a_header_and_a_row_per_case_oldest_first(engine: Engine, tmp_path: Path) -> None:
    seed(engine, 25)
    result = export(engine, ["--format", "csv"], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 25
    assert [r["number"] for r in rows[:2]] == ["TCK-000001", "TCK-000002"]
    assert rows[3]["title"] == 'Invoice 3, "quoted"' and rows[3]["details"] == "line one\nline 3"
    assert rows[0]["status"] == "open" and rows[0]["priority"] == "high" and rows[0]["assignee"] == ""
    assert rows[0]["created_at"] == "2026-03-02T09:00:00Z"


def test_jsonl_is_one_case_per_line_and_words_filter(engine: Engine, tmp_path: Path) -> None:
    seed(engine, 30)
    result = export(engine, ["--format", "jsonl", "open", "high"], tmp_path)
    assert result.returncode == 0, result.stderr
    cases = [json.loads(line) for line in result.stdout.splitlines()]
    # open: the even ones; high: every third; both: every sixth.
    assert [c["id"] for c in cases] == [1, 7, 13, 19, 25]
    assert {(c["status"], c["priority"]) for c in cases} == {("open", "high")}
    assert cases[0]["requester"] == "U0SEED0000" and cases[0]["resolved_at"] is None
    searched = export(engine, ["--format", "jsonl", "U0SEED0004"], tmp_path)
    assert [json.loads(line)["id"] for line in searched.stdout.splitlines()] == [5]


def test_a_bad_word_is_one_line_and_exit_2(engine: Engine, tmp_path: Path) -> None:
    seed(engine, 3)
    for words, says in (
        (["sort:sideways"], "sort: takes due"),
        (["team:Nowhere"], "there is no team called 'Nowhere'"),
        (["colour:red"], "no issue type has a field 'colour'"),
    ):
        result = export(engine, words, tmp_path)
        assert result.returncode == 2, words
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("casedesk: ") and says in lines[0], result.stderr
