"""One ``Document`` → ``report.md`` and a self-contained ``report.html`` (same content).

The HTML embeds every figure as a data URI and carries its own styles, so the one file can be
mailed, attached to a CI run or served as is. The Markdown references the figure files next to
it. Both are functions of the document only (no dates, no paths of this machine).
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from kenning_tasks import artifacts
from kenning_tasks.layout import TEMPLATES_DIR
from kenning_tasks.reporting.document import FLAG_MARKS, FLAG_WORDS, Cell, Document

TEMPLATES = ("report.md.j2", "report.html.j2")
MIME = {".svg": "image/svg+xml", ".png": "image/png"}


def template_files() -> list[Path]:
    return [TEMPLATES_DIR / name for name in TEMPLATES]


def write(document: Document, folder: Path, stem: str = "report") -> list[Path]:
    """Write ``<stem>.md`` and ``<stem>.html`` into ``folder`` (its figures already there)."""
    folder = Path(folder)
    markdown_file = artifacts.write_text(folder / f"{stem}.md", to_markdown(document))
    html_file = artifacts.write_text(folder / f"{stem}.html", to_html(document, folder))
    return [markdown_file, html_file]


def to_markdown(document: Document) -> str:
    return _environment().get_template("report.md.j2").render(doc=document)


def to_html(document: Document, folder: Path) -> str:
    environment = _environment()
    environment.filters["embed"] = lambda name: _data_uri(Path(folder) / name)
    return environment.get_template("report.html.j2").render(doc=document)


def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html.j2"]), keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(md_cell=md_cell, md_text=md_text, inline=inline_html,
                               slug=slug, side_by_side=side_by_side)
    environment.globals.update(flag_words=FLAG_WORDS, flag_marks=FLAG_MARKS)
    return environment


def _data_uri(path: Path) -> str:
    mime = MIME.get(path.suffix)
    if mime is None:
        raise ValueError(f"{path}: cannot embed {path.suffix} files; allowed: svg, png")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def md_cell(value: Cell) -> str:
    """A table cell in Markdown: a flagged value is bold and says so in words."""
    text = md_text(value.text).replace("|", "\\|")
    if value.flag in ("fail", "warn"):
        return f"**{text} {FLAG_MARKS[value.flag]} {FLAG_WORDS[value.flag]}**"
    if value.flag == "pass":
        return f"{text} {FLAG_MARKS['pass']}"
    return text


def side_by_side(blocks: list) -> list[list]:
    """Blocks grouped so consecutive tables share a row in HTML (they wrap when narrow)."""
    groups: list[list] = []
    for block in blocks:
        if groups and block.kind == "table" and groups[-1][-1].kind == "table":
            groups[-1].append(block)
        else:
            groups.append([block])
    return groups


def md_text(text: str) -> str:
    return " ".join(text.split())


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def inline_html(text: str):
    """Escape ``text`` and turn its ```code``` and ``**bold**`` spans into HTML."""
    from markupsafe import Markup

    escaped = html.escape(text, quote=False)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    return Markup(escaped)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
