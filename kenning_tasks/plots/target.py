"""On-target figures: flash and RAM against the board's limits and by section, instructions
per operator, and the largest symbols."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.plots import style
from kenning_tasks.reporting.units import short_bytes

WARN_SHARE = 0.9  # of a board limit
MAX_OPS = 24
MAX_SYMBOLS = 15
SECTION_COLOURS = {".text": style.BLUE, ".rodata": style.CYAN, ".vectors": style.PURPLE,
                   ".data": style.YELLOW, ".bss": style.RED, ".stack": style.GREY,
                   "tensor arena": "#EE99AA", ".heap": "#99DDFF"}
REGION_COLOURS = {"flash": style.BLUE, "ram": style.RED, "flash + ram": style.YELLOW}


def target_figure(memory: dict[str, Any], target: Path, per_op: list[dict] | None = None,
                  symbols: list[dict] | None = None, image_format: str = "svg") -> Path:
    """``memory``: {"flash"|"ram": {"used", "limit", "sections": {name: bytes}}}."""
    layout, heights = [["limits"], ["sections"]], [1.7, 2.0]
    if per_op:
        layout.append(["per_op"])
        heights.append(0.27 * min(len(per_op), MAX_OPS + 1) + 1.0)
    if symbols:
        layout.append(["symbols"])
        heights.append(0.27 * min(len(symbols), MAX_SYMBOLS) + 1.0)
    with style.mosaic(layout, 10.0, sum(heights) + 0.3, height_ratios=heights) as (fig, axes):
        _limits(axes["limits"], memory)
        _sections(axes["sections"], memory)
        if per_op:
            _per_op(axes["per_op"], per_op)
        if symbols:
            _symbols(axes["symbols"], symbols)
        return style.save(fig, target, image_format)


def _regions(memory: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(label, memory[key]) for key, label in (("ram", "RAM"), ("flash", "flash"))
            if key in memory]


def _limits(axes: Any, memory: dict[str, Any]) -> None:
    regions = _regions(memory)
    for row, (_label, region) in enumerate(regions):
        used, limit = region["used"], region["limit"]
        share = used / limit if limit else 0.0
        colour = style.FAIL_COLOUR if share > 1 else (
            style.WARN_COLOUR if share > WARN_SHARE else style.GREEN)
        axes.barh(row, 100, color="#F0F0F0", height=0.55)
        axes.barh(row, min(share, 1.0) * 100, color=colour, height=0.55)
        axes.text(min(share * 100, 100) + 1, row,
                  f"{short_bytes(used)} of {short_bytes(limit)} ({share * 100:.1f} %)",
                  va="center", fontsize=9, color="#1d2228")
    axes.axvline(WARN_SHARE * 100, color=style.WARN_COLOUR, linestyle="--", linewidth=1)
    axes.text(WARN_SHARE * 100, len(regions) - 0.45, "90 %", color=style.WARN_COLOUR,
              fontsize=8, ha="center")
    axes.set_yticks(range(len(regions)), [label for label, _ in regions])
    axes.set_xlim(0, 130)
    axes.set_xticks([0, 25, 50, 75, 100])
    axes.set_xlabel("share of the board's memory [%]")
    axes.set_title("Memory use against the board's limits")
    axes.grid(axis="y", visible=False)


def _sections(axes: Any, memory: dict[str, Any]) -> None:
    regions = _regions(memory)
    widest = max((region["used"] for _, region in regions), default=1) or 1
    unit, size_of_unit = ("KiB", 1024) if widest >= 4096 else ("B", 1)
    seen: set[str] = set()
    for row, (_label, region) in enumerate(regions):
        left = 0.0
        for name, size in region["sections"].items():
            colour = SECTION_COLOURS.get(name, style.YELLOW)
            width = size / size_of_unit
            axes.barh(row, width, left=left, color=colour, height=0.55, edgecolor="white",
                      linewidth=0.8, label=name if name not in seen else None)
            seen.add(name)
            if size > 0.09 * widest:
                axes.text(left + width / 2, row, f"{name}\n{short_bytes(size)}", ha="center",
                          va="center", fontsize=7.5,
                          color="white" if colour in (style.BLUE, style.PURPLE, style.RED)
                          else "#1d2228")
            left += width
    axes.set_yticks(range(len(regions)), [label for label, _ in regions])
    axes.set_xlim(0, widest / size_of_unit * 1.02)
    axes.set_xlabel(unit)
    axes.set_title("By section")
    axes.grid(axis="y", visible=False)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)


def _per_op(axes: Any, per_op: list[dict]) -> None:
    ops = list(per_op)
    total = sum(op["instructions"] for op in ops) or 1
    if len(ops) > MAX_OPS:
        kept = sorted(ops, key=lambda op: -op["instructions"])[:MAX_OPS]
        kept.sort(key=lambda op: op["index"])
        rest = sum(op["instructions"] for op in ops) - sum(op["instructions"] for op in kept)
        ops = [*kept, {"index": None, "op": f"{len(per_op) - MAX_OPS} others",
                       "instructions": rest}]
    labels = [f"{op['index']} {op['op']}" if op["index"] is not None else op["op"]
              for op in ops]
    values = [op["instructions"] for op in ops]
    bars = axes.barh(range(len(ops)), values, color=style.BLUE, height=0.65)
    axes.invert_yaxis()
    axes.set_yticks(range(len(ops)), labels, fontsize=8.5)
    axes.set_xlim(0, max(values) * 1.3 if values else 1)
    texts = []
    for op, value in zip(ops, values, strict=True):
        text = f"{value:,.0f} ({100 * value / total:.1f} %)".replace(",", " ")
        if op.get("macs"):
            text += f", {value / op['macs']:.2f}/MAC"
        texts.append(text)
    style.label_bars(axes, bars, texts, inside_fraction=2.0)
    axes.set_xlabel("instructions per inference")
    axes.set_title("Instructions per operator (execution order)")
    axes.grid(axis="y", visible=False)


def _symbols(axes: Any, symbols: list[dict]) -> None:
    largest = sorted(symbols, key=lambda s: (-s["bytes"], s["name"]))[:MAX_SYMBOLS]
    colours = [REGION_COLOURS.get(s.get("region", ""), style.GREY) for s in largest]
    bars = axes.barh(range(len(largest)), [s["bytes"] for s in largest], color=colours,
                     height=0.65)
    axes.invert_yaxis()
    names = [s["name"] if len(s["name"]) <= 40 else s["name"][:37] + "…" for s in largest]
    axes.set_yticks(range(len(largest)), names, fontsize=8)
    axes.set_xlim(0, max(s["bytes"] for s in largest) * 1.25)
    style.label_bars(axes, bars, [short_bytes(s["bytes"]) + (f" ({s['section']})"
                                                             if s.get("section") else "")
                                  for s in largest], inside_fraction=2.0)
    axes.set_xlabel("bytes")
    axes.set_title(f"Largest symbols (top {len(largest)} of {len(symbols)})")
    axes.grid(axis="y", visible=False)
    from matplotlib.patches import Patch

    present = sorted({s.get("region", "") for s in largest} & set(REGION_COLOURS))
    if present:
        axes.legend(handles=[Patch(color=REGION_COLOURS[r], label=r) for r in present],
                    loc="lower right", fontsize=8)
