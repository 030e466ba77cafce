"""`journeys simulate`: the shared contract examples, and every bad input exits 2 with a clear line."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from app.cli import main

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples" / "simulate"


def simulate(*args: str) -> Result:
    return CliRunner().invoke(main, ["simulate", *args], prog_name="journeys")


def normalise(value: Any) -> Any:
    if isinstance(value, str) and value.endswith("Z"):
        return value[:-1] + "+00:00"
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def example_args(name: str, *, templates: bool = True) -> list[str]:
    args = [str(EXAMPLES / f"{name}.journey.json"), "--contact", str(EXAMPLES / f"{name}.contact.json"),
            "--events", str(EXAMPLES / f"{name}.events.json")]
    return args + ["--templates", str(EXAMPLES / "templates")] if templates else args


@pytest.mark.parametrize("name", ["cart", "welcome"])
def test_the_shared_examples_give_their_expected_timelines(name: str) -> None:
    result = simulate(*example_args(name))
    assert result.exit_code == 0, result.stderr
    got = normalise(json.loads(result.stdout))
    expected = normalise(json.loads((EXAMPLES / f"{name}.expected.json").read_text()))
    assert got["final"] == expected["final"]
    assert len(got["steps"]) == len(expected["steps"])
    for step, want in zip(got["steps"], expected["steps"]):
        assert {key: step.get(key) for key in want} == want  # output may carry more fields


def test_without_templates_the_subject_is_the_slug() -> None:
    result = simulate(*example_args("welcome", templates=False))
    assert result.exit_code == 0, result.stderr
    subjects = [s["subject"] for s in json.loads(result.stdout)["steps"] if s["outcome"] == "sent"]
    assert subjects == ["welcome", "tips"]


def test_an_unsubscribed_contact_is_skipped_with_its_reason(tmp_path: Path) -> None:
    contact = json.loads((EXAMPLES / "welcome.contact.json").read_text())
    contact["consent"] = {"marketing": "unsubscribed"}
    (tmp_path / "c.json").write_text(json.dumps(contact))
    args = example_args("welcome")
    args[2] = str(tmp_path / "c.json")
    result = simulate(*args)
    assert result.exit_code == 0, result.stderr
    sends = [s for s in json.loads(result.stdout)["steps"] if s["type"] == "send"]
    assert [(s["outcome"], s["reason"]) for s in sends] == [("skipped", "unsubscribed")] * 2


def test_until_stops_the_clock_while_the_contact_waits() -> None:
    result = simulate(*example_args("welcome"), "--until", "2026-12-02T00:00:00Z")
    assert result.exit_code == 0, result.stderr
    timeline = json.loads(result.stdout)
    assert timeline["final"]["state"] == "waiting" and timeline["final"]["node"] == "pause"
    assert timeline["final"]["wake_at"] == "2026-12-03T09:00:00+00:00"
    assert [s["node"] for s in timeline["steps"]] == ["start", "hello", "pause"]


def test_an_invalid_journey_lists_its_problems_and_exits_2(tmp_path: Path) -> None:
    journey = {"schema": 1, "nodes": [
        {"id": "start", "type": "trigger", "config": {"event": "signed_up"}},
        {"id": "pause", "type": "wait", "config": {"duration": "two days"}},
        {"id": "hello", "type": "send", "config": {"template": "nope", "category": "marketing"}},
    ], "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "ghost"}]}
    path = tmp_path / "j.json"
    path.write_text(json.dumps(journey))
    result = simulate(str(path), "--contact", str(EXAMPLES / "welcome.contact.json"),
                      "--events", str(EXAMPLES / "welcome.events.json"), "--templates", str(EXAMPLES / "templates"))
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    codes = {tuple(line.split(": ", 2)[:2]) for line in lines}
    assert ("pause", "duration.invalid") in codes
    assert ("hello", "template.unknown") in codes
    assert ("hello", "node.unreachable") in codes
    assert any(code == "edge.missing_node" for _, code in codes)
    assert all(len(line.split(": ", 2)) == 3 for line in lines)


@pytest.mark.parametrize("change, message", [
    (lambda a, t: a.__setitem__(2, str(t / "missing.json")), "contact file"),
    (lambda a, t: a.__setitem__(2, str(_write(t, "bad.json", "{not json"))), "not JSON (line 1"),
    (lambda a, t: a.__setitem__(4, str(_write(t, "e.json", '[{"at": "yesterday", "event": "x"}]'))), "yesterday"),
    (lambda a, t: a.__setitem__(4, str(_write(t, "e.json", '{"event": "x"}'))), "events"),
    (lambda a, t: a.__setitem__(2, str(_write(t, "c.json", '{"email": "not an address"}'))), "email"),
    (lambda a, t: a.extend(["--start", "next tuesday"]), "--start 'next tuesday'"),
    (lambda a, t: a.__setitem__(6, str(t / "nowhere")), "no such folder"),
])
def test_bad_input_files_are_one_clear_line_and_exit_2(tmp_path: Path, change: Any, message: str) -> None:
    args = example_args("welcome")
    change(args, tmp_path)
    result = simulate(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("Error: ") and message in line, line
    assert "Traceback" not in result.stderr


def test_a_template_that_does_not_compile_names_itself(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    for path in (EXAMPLES / "templates").glob("*.json"):
        (folder / path.name).write_text(path.read_text())
    (folder / "welcome.json").write_text(json.dumps(
        {"subject": "Welcome, {{ contact.first_name", "preheader": "", "mjml": "<mjml></mjml>",
         "category": "marketing"}))
    args = example_args("welcome")
    args[6] = str(folder)
    result = simulate(*args)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and "welcome" in line and line.startswith("Error: ")


def _write(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text)
    return folder / name
