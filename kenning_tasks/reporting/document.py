"""A report as data: sections holding paragraphs, tables, figures and flagged values.

The report builders (``single.py``, ``comparison.py``, ``timeline.py``) produce a
``Document``; ``render.py`` turns the same document into Markdown and into self-contained
HTML, so both always say the same thing. A value outside expectations is a ``Cell`` (or an
``Alert``) with a ``flag``: coloured in HTML, marked in words in Markdown.

Paragraph text may use two bits of Markdown, ```code``` and ``**bold**``; the HTML renderer
converts just those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Flag = Literal["fail", "warn", "pass"]
FLAG_WORDS = {"fail": "FAILED", "warn": "WARNING", "pass": "passed"}
FLAG_MARKS = {"fail": "✗", "warn": "⚠", "pass": "✓"}


@dataclass(frozen=True)
class Cell:
    text: str
    flag: Flag | None = None
    numeric: bool = False  # right-aligned


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    highlight_row: int | None = None  # e.g. a grid's best pipeline
    kind: str = "table"


@dataclass(frozen=True)
class Figure:
    file: str   # a file in the report's folder
    alt: str
    caption: str = ""
    kind: str = "figure"


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: str = "paragraph"


@dataclass(frozen=True)
class Alert:
    level: Flag
    text: str
    kind: str = "alert"


@dataclass(frozen=True)
class Details:
    """Collapsible in HTML (closed), a fenced code block in Markdown."""

    summary: str
    text: str
    language: str = ""
    kind: str = "details"


Block = Table | Figure | Paragraph | Alert | Details


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block | None) -> Section:
        self.blocks.extend(b for b in blocks if b is not None)
        return self

    @property
    def alerts(self) -> list[Alert]:
        return [b for b in self.blocks if isinstance(b, Alert)]


@dataclass
class Document:
    title: str
    subtitle: str = ""
    banner: list[Alert] = field(default_factory=list)   # at the very top (gates, checks)
    sections: list[Section] = field(default_factory=list)
    smaller_header: bool = False

    @property
    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    def attention(self) -> list[tuple[Section, Alert]]:
        """Every failure and warning of the sections, for the summary at the top."""
        return [(s, a) for s in self.sections for a in s.alerts if a.level != "pass"]


def cell(text: str, flag: Flag | None = None) -> Cell:
    return Cell(text, flag)


def num(text: str, flag: Flag | None = None) -> Cell:
    return Cell(text, flag, numeric=True)


def key_value_table(rows: list[tuple[str, Cell | str]], caption: str = "",
                    columns: tuple[str, str] = ("measurement", "value")) -> Table:
    """A two-column table; string values become right-aligned cells."""
    return Table(list(columns),
                 [[Cell(name), value if isinstance(value, Cell) else num(value)]
                  for name, value in rows], caption)
