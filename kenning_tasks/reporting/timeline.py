"""The build timeline: what the last run did, from ``build/run-summary.json``.

The run summary (written after every run by the run recorder, ``kenning_tasks/ci``) says per
task whether it ran, was restored from the run cache (local or remote), was up to date or
failed, and how long it took. That is run information, not a function of any stage's inputs,
so it is never part of a pipeline's report (a target); it gets its own page next to the
summary, ``build/run-summary.html`` (self-contained) and ``build/run-summary.md``, rewritten
after every run.

Written with plain string formatting (no template engine, no plotting library): it runs at
the end of every run, no-op runs included, which must stay fast.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts

SUMMARY_FILE = "run-summary.json"
PAGES = ("run-summary.html", "run-summary.md")
STATUS_COLOURS = {"ran": "#4477AA", "restored": "#228833", "up-to-date": "#BBBBBB",
                  "failed": "#CC3311", "ignored": "#DDDDDD", "not-run": "#DDDDDD"}
STATUS_WORDS = {"ran": "ran", "restored": "restored", "up-to-date": "up to date",
                "failed": "FAILED", "ignored": "ignored", "not-run": "not run"}
BAR_CHARACTERS = 30


def write_after_run(build_dir: Path, not_before: float) -> list[Path]:
    """Write the timeline pages if this run wrote a run summary (modified at or after
    ``not_before``, a ``time.time()``); never raises for a missing or unreadable summary."""
    summary_file = Path(build_dir) / SUMMARY_FILE
    try:
        if summary_file.stat().st_mtime < not_before - 1.0:
            return []
        summary = json.loads(summary_file.read_text())
    except (OSError, ValueError):
        return []
    try:
        return write(Path(build_dir), summary)
    except (OSError, KeyError, TypeError, ValueError):
        return []  # a broken summary must not fail a finished run


def write(folder: Path, summary: dict[str, Any]) -> list[Path]:
    return [artifacts.write_text(folder / PAGES[0], to_html(summary)),
            artifacts.write_text(folder / PAGES[1], to_markdown(summary))]


def _headline(summary: dict[str, Any]) -> str:
    counts = summary.get("counts", {})
    parts = [f"{counts[s]} {STATUS_WORDS[s]}" for s in STATUS_WORDS if counts.get(s)]
    gates = summary.get("gates_failed")
    if gates:
        parts.append(f"{gates} quality gate{'s' if gates != 1 else ''} failed")
    return (f"Run {summary.get('result', '?')} in {summary.get('seconds', 0):.1f} s"
            + (f", started {summary['started_at']}" if summary.get("started_at") else "")
            + (": " + ", ".join(parts) if parts else "") + ".")


def _stages(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in summary.get("stages", []) if isinstance(s, dict) and "task" in s]


def _status(stage: dict[str, Any]) -> str:
    status = STATUS_WORDS.get(stage.get("status", ""), stage.get("status", "?"))
    if stage.get("cache"):
        status += f" ({stage['cache']} cache)"
    return status


def to_markdown(summary: dict[str, Any]) -> str:
    stages = _stages(summary)
    longest = max((s.get("seconds", 0) for s in stages), default=0) or 1
    lines = ["# Build timeline", "", _headline(summary), "",
             "Tasks in the order doit decided them; the bar is the task's duration.", "",
             "| task | status | seconds | |", "|---|---|---:|---|"]
    for stage in stages:
        seconds = float(stage.get("seconds", 0))
        bar = "█" * max(1 if seconds > 0 else 0, round(BAR_CHARACTERS * seconds / longest))
        status = _status(stage)
        if stage.get("status") == "failed":
            status = f"**✗ {status}**"
        lines.append(f"| `{stage['task']}` | {status} | {seconds:.2f} | {bar} |")
    for error in summary.get("errors", []):
        lines += ["", f"> **✗ error:** {error}"]
    for stage in stages:
        if stage.get("message"):
            lines += ["", f"> **✗ {stage['task']}:** {stage['message']}"]
    return "\n".join(lines) + "\n"


def to_html(summary: dict[str, Any]) -> str:
    stages = _stages(summary)
    longest = max((s.get("seconds", 0) for s in stages), default=0) or 1
    rows = []
    for stage in stages:
        seconds = float(stage.get("seconds", 0))
        colour = STATUS_COLOURS.get(stage.get("status", ""), "#999999")
        width = 100 * seconds / longest
        row_class = ' class="failed"' if stage.get("status") == "failed" else ""
        rows.append(
            f'<tr{row_class}><td><code>{html.escape(stage["task"])}'
            f'</code></td><td><span class="dot" style="background:{colour}"></span>'
            f'{html.escape(_status(stage))}</td><td class="num">{seconds:.2f}</td>'
            f'<td class="bar"><div style="width:{width:.2f}%;background:{colour}"></div></td>'
            "</tr>")
    notes = [f'<div class="alert">✗ error: {html.escape(e)}</div>'
             for e in summary.get("errors", [])]
    notes += [f'<div class="alert">✗ <code>{html.escape(s["task"])}</code>: '
              f'{html.escape(s["message"])}</div>' for s in stages if s.get("message")]
    result = summary.get("result", "?")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Build timeline</title>
<style>
body {{ font: 15px/1.5 system-ui, "DejaVu Sans", sans-serif; color: #1d2228; margin: 0;
       background: #fafbfc; }}
main {{ max-width: 68rem; margin: 0 auto; padding: 1.5rem 2rem 3rem; background: white;
       min-height: 100vh; box-shadow: 0 0 0 1px #d9dde3; }}
h1 {{ font-size: 1.8rem; margin: 0.2rem 0 0.6rem; }}
.headline {{ border-left: 5px solid {"#1e7b30" if result == "passed" else "#cc3311"};
            background: {"#e3f3e6" if result == "passed" else "#fbe3dc"};
            padding: 0.55rem 0.9rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.92rem; width: 100%;
        font-variant-numeric: tabular-nums; }}
th, td {{ border-bottom: 1px solid #e3e6ea; padding: 0.3rem 0.6rem; text-align: left; }}
td.num {{ text-align: right; white-space: nowrap; }}
td.bar {{ width: 45%; }}
td.bar div {{ height: 0.9rem; border-radius: 2px; min-width: 1px; }}
tr.failed td {{ background: #fbe3dc; color: #cc3311; font-weight: 700; }}
.dot {{ display: inline-block; width: 0.7rem; height: 0.7rem; border-radius: 50%;
       margin-right: 0.4rem; vertical-align: -0.05rem; }}
.alert {{ border-left: 5px solid #cc3311; background: #fbe3dc; padding: 0.5rem 0.9rem;
         margin: 0.5rem 0; }}
p.note {{ color: #5f6670; }}
</style>
</head>
<body>
<main>
<h1>Build timeline</h1>
<p class="headline">{html.escape(_headline(summary))}</p>
{"".join(notes)}
<table>
<thead><tr><th>task</th><th>status</th><th>seconds</th><th>duration</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<p class="note">Tasks in the order doit decided them. Ran: computed in this run; restored:
copied from the run cache instead of recomputed; up to date: nothing it depends on changed.
From build/run-summary.json, rewritten after every run.</p>
</main>
</body>
</html>
"""
