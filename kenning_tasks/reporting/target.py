"""The on-target section: what the board computed and what the firmware costs.

Agreement with the host reference, instructions per inference (per operator when the
firmware measured them), MACs, flash and RAM against the board's limits and by section, the
tensor arena, the largest symbols. Optional inputs, whoever writes them:

- ``per_op`` (in ``on_target`` or firmware.json): ``[{"index", "op", "instructions",
  "macs"?}]``, instructions per inference;
- ``memory`` (firmware.json, from the ELF): ``{"flash" | "ram": {"bytes", "sections": {name:
  bytes}}, "symbols": [{"name", "section", "bytes", "regions": ["flash", "ram"]}]}``; without
  it, ``sections`` (``{name: bytes}``, regions from the section names) and ``symbols``
  (``[{"name", "bytes", "section"?, "region"?}]``).
"""

from __future__ import annotations

from typing import Any

from kenning_tasks.reporting import expectations
from kenning_tasks.reporting.document import (
    Cell,
    Figure,
    Paragraph,
    Section,
    Table,
    key_value_table,
    num,
)
from kenning_tasks.reporting.units import bytes_text, fraction_text, number_text, percent_text

RAM_ONLY_SECTIONS = (".bss", ".stack", ".heap", ".noinit")
BOTH_SECTIONS = (".data",)  # initial values in flash, the variables in RAM


def numeric_path_text(target: dict[str, Any]) -> str:
    """e.g. "float32 kernels, FPU (fpv4-sp-d16, -mfloat-abi=hard)" or "int8 kernels"."""
    path = target.get("numeric_path", "int8")
    arithmetic = target.get("float_arithmetic")
    return f"{path} kernels" + (f", {arithmetic}" if path != "int8" and arithmetic else "")


def section(m: dict[str, Any], firmware: dict[str, Any], figure: str) -> Section | None:
    """The on-target section of ``m`` (measurements) and its firmware's facts."""
    target = m.get("on_target")
    if target is None:
        return None
    display = firmware.get("display_name")
    section = Section("on-target", f"On target: {target['board']}"
                      + (f" — {display}" if display else ""))
    section.add(*expectations.target_alerts(m))
    ti = target["target_instructions"]
    counted = ti.get("unit", "instructions")
    path = target.get("numeric_path", "int8")
    rows: list[tuple[str, Cell | str]] = [("numeric path", numeric_path_text(target))]
    rows += [
        (f"agreement with the host TFLite Micro {path} reference "
         f"({target.get('agreement_rule', 'bit-exact')})",
         expectations.agreement_cell(target["agreement_with_host"])),
    ]
    if path != "int8" and "max_abs_error_vs_host" in target:
        rows.append(("largest |target − host| output difference",
                     f"{target['max_abs_error_vs_host']:.3g}"))
    rows += [
        ("accuracy on target", fraction_text(m["accuracy"])),
        (f"host {path} accuracy (TFLite Micro)", fraction_text(target["host_accuracy"])),
        (f"{counted} per inference (mean)", number_text(round(ti["mean"]))),
        (f"{counted} per inference (min / max)",
         f"{number_text(ti['min'])} / {number_text(ti['max'])}"),
        ("MACs per inference", number_text(target["macs"])),
        (f"{counted} per MAC", number_text(target.get("instructions_per_mac"), 3)),
        ("flash", expectations.memory_cell(target["flash_bytes"], target["flash_limit_bytes"])),
        ("RAM", expectations.memory_cell(target["ram_bytes"], target["ram_limit_bytes"])),
        ("tensor arena", bytes_text(target["arena_bytes"])),
        ("UART bytes sent / received", f"{number_text(target['uart_bytes_sent'])} / "
                                       f"{number_text(target['uart_bytes_received'])}"),
    ]
    if target.get("toolchain"):
        rows.append(("toolchain", target["toolchain"]))
    section.add(key_value_table(rows, "On-target measurements"))
    per_op = per_op_counts(m, firmware)
    symbols = symbol_sizes(firmware)
    caption = ("Flash and RAM against the board's limits (dashed: 90 %) and by section; the "
               "tensor arena is part of .bss.")
    if per_op:
        caption += " Instructions per operator, measured on the target."
    if symbols:
        caption += " The largest symbols of the image."
    section.add(Figure(figure, "flash and RAM against the board's limits", caption))
    section.add(Table(["section", "region", "bytes"],
                      [[Cell(f"`{name}`"), Cell(region), num(bytes_text(size))]
                       for name, region, size in section_rows(firmware)],
                      "Sections of the firmware image"))
    if per_op:
        total = sum(op["instructions"] for op in per_op) or 1
        section.add(Table(
            ["#", "operator", "instructions", "share", "MACs", "instructions per MAC"],
            [[num(str(op["index"])), Cell(op["op"]), num(number_text(round(op["instructions"]))),
              num(percent_text(100 * op["instructions"] / total)),
              num(number_text(op.get("macs")) if op.get("macs") else "—"),
              num(number_text(op["instructions"] / op["macs"], 3) if op.get("macs") else "—")]
             for op in per_op], "Instructions per operator (per inference)"))
    else:
        section.add(Paragraph("A per-operator breakdown appears here when the firmware "
                              "measures each operator (`on_target.per_op`: the bare-metal "
                              "firmware does, the Zephyr one does not)."))
    if symbols:
        largest = sorted(symbols, key=lambda s: (-s["bytes"], s["name"]))[:15]
        section.add(Table(["symbol", "section", "region", "bytes"],
                          [[Cell(f"`{s['name']}`"), Cell(s.get("section", "")),
                            Cell(s.get("region", "")), num(bytes_text(s["bytes"]))]
                           for s in largest], f"Largest symbols ({len(largest)} of "
                                              f"{len(symbols)})"))
    section.add(Paragraph("Instruction counts are exact: QEMU's `-icount shift=6` gives every "
                          "instruction 64 ns of virtual time, read on SysTick restarted at each "
                          "inference (identical from run to run, linear in the work), but "
                          "there is no pipeline or wait-state model."))
    return section


def section_rows(firmware: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(section, region, bytes) of the firmware's sections: flash first, then RAM.

    The regions come from ``memory`` (the ELF's section flags, firmware.json of the firmware
    stage) when present, else from the section names of ``sections``.
    """
    memory = firmware.get("memory") or {}
    flash = (memory.get("flash") or {}).get("sections") or {}
    ram = (memory.get("ram") or {}).get("sections") or {}
    rows = []
    if flash or ram:
        for name in {**flash, **ram}:
            region = ("flash + RAM" if name in flash and name in ram
                      else "flash" if name in flash else "RAM")
            rows.append((name, region, int(flash.get(name, ram.get(name, 0)))))
    else:
        for name, value in (firmware.get("sections") or {}).items():
            size = value if isinstance(value, int) else int(value.get("bytes",
                                                                      value.get("size", 0)))
            rows.append((name, "RAM" if name in RAM_ONLY_SECTIONS else
                         "flash + RAM" if name in BOTH_SECTIONS else "flash", size))
    order = {"flash": 0, "flash + RAM": 1, "RAM": 2}
    return sorted(rows, key=lambda r: (order.get(r[1], 3), -r[2], r[0]))


def memory_regions(target: dict[str, Any], firmware: dict[str, Any]) -> dict[str, Any]:
    """Flash and RAM: used, limit and the sections filling them (the arena split off .bss)."""
    flash: dict[str, int] = {}
    ram: dict[str, int] = {}
    for name, region, size in section_rows(firmware):
        if "flash" in region.lower():
            flash[name] = size
        if "ram" in region.lower():
            ram[name] = size
    arena = int(target.get("arena_bytes") or 0)
    with_arena: dict[str, int] = {}
    for name, size in ram.items():
        if name == ".bss" and 0 < arena <= size:
            with_arena["tensor arena"] = arena
            if size > arena:
                with_arena[".bss"] = size - arena
        else:
            with_arena[name] = size
    ram = with_arena
    if not flash:
        flash = {"image": target["flash_bytes"]}
    if not ram:
        ram = {"data": target["ram_bytes"]}
    return {"flash": {"used": target["flash_bytes"], "limit": target["flash_limit_bytes"],
                      "sections": flash},
            "ram": {"used": target["ram_bytes"], "limit": target["ram_limit_bytes"],
                    "sections": ram}}


def per_op_counts(m: dict[str, Any], firmware: dict[str, Any]) -> list[dict[str, Any]]:
    ops = (m.get("on_target") or {}).get("per_op") or firmware.get("per_op") or []
    return [{"index": op.get("index", i), "op": str(op.get("op", "?")),
             "instructions": float(op["instructions"]), "macs": op.get("macs")}
            for i, op in enumerate(ops) if op.get("instructions") is not None]


def symbol_sizes(firmware: dict[str, Any]) -> list[dict[str, Any]]:
    """The firmware's sized symbols (``memory.symbols``, or ``symbols``), with their region."""
    entries = (firmware.get("memory") or {}).get("symbols") or firmware.get("symbols") or []
    result = []
    for entry in entries:
        size = entry.get("bytes", entry.get("size"))
        if not entry.get("name") or not isinstance(size, int) or size <= 0:
            continue
        regions = entry.get("regions") or ([entry["region"]] if entry.get("region") else [])
        symbol = {"name": entry["name"], "bytes": size}
        if entry.get("section"):
            symbol["section"] = entry["section"]
        if regions:
            symbol["region"] = " + ".join(regions)
        result.append(symbol)
    return result
