"""Fault injection on the host ↔ QEMU link, printed as JSON.

Runs sessions of the loop-model firmware on QEMU mps2-an385 through a TCP proxy that flips
bits in, drops, duplicates or stalls chunks of the traffic (both directions) at several rates,
and classifies each session: completed with outputs and counts identical to a clean session,
or failed with a one-line error (and how long it took). A completed session with any
difference from the clean one is counted as "wrong" (there should be none).
Usage: ``.venv/bin/python benchmarks/link_faults.py [--seeds 3] [--samples 20]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from target_support import loop_inputs, write_loop_model  # noqa: E402
from target_support.faulty_proxy import Faults, FaultyProxy  # noqa: E402

from kenning_tasks.errors import StageError  # noqa: E402
from kenning_tasks.mcu.boards import get_board  # noqa: E402
from kenning_tasks.mcu.build import build_firmware  # noqa: E402
from kenning_tasks.mcu.link import LinkTiming, TargetLink, run_session  # noqa: E402
from kenning_tasks.mcu.qemu import NS_PER_INSTRUCTION, QemuTarget  # noqa: E402

LIMIT_S = 120.0


def session(elf: Path, inputs: list[bytes], faults: Faults, seed: int):
    import serial

    with QemuTarget(elf, "mps2-an385") as qemu:
        proxy = FaultyProxy(qemu.port, faults, seed=seed)
        port = serial.serial_for_url(f"socket://127.0.0.1:{proxy.port}", timeout=0.05)
        link = TargetLink(port, label="mps2-an385", timing=LinkTiming.for_baudrate(115200),
                          alive=lambda grace: qemu.check_alive(link.phase, grace))
        try:
            return run_session(link, inputs, LIMIT_S, NS_PER_INSTRUCTION, board="mps2-an385",
                               process_s=5.0), proxy.tally
        finally:
            port.close()
            proxy.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--rates", type=float, nargs="*", default=[0.005, 0.02, 0.05, 0.1])
    options = parser.parse_args()
    rng = random.Random(0)
    inputs = loop_inputs([rng.randrange(0, 5000) for _ in range(options.samples)])
    kinds = {
        "flip": lambda r: Faults(flip=r), "drop": lambda r: Faults(drop=r),
        "duplicate": lambda r: Faults(duplicate=r),
        "stall 0.3 s": lambda r: Faults(stall=r, stall_s=0.3),
        "stall 2.5 s": lambda r: Faults(stall=r, stall_s=2.5),
        "all four": lambda r: Faults(flip=r, drop=r, duplicate=r, stall=r, stall_s=0.3),
    }
    with tempfile.TemporaryDirectory(prefix="kt-faults-") as tmp:
        board = get_board("mps2-an385")
        elf = build_firmware(board, write_loop_model(Path(tmp) / "model"), Path(tmp)).elf
        clean, _ = session(elf, inputs, Faults(), 0)
        rows = []
        for kind, make in kinds.items():
            for rate in options.rates:
                for seed in range(options.seeds):
                    faults = make(rate)
                    start = time.monotonic()
                    try:
                        run, tally = session(elf, inputs, faults, seed)
                    except StageError as error:
                        outcome, detail, retries, injected = "failed", str(error), None, None
                    else:
                        same = (run.outputs == clean.outputs and run.ticks == clean.ticks
                                and run.instructions == clean.instructions
                                and run.target_info == clean.target_info
                                and run.uart_bytes_sent == clean.uart_bytes_sent
                                and run.uart_bytes_received == clean.uart_bytes_received)
                        outcome, detail = ("identical" if same else "wrong"), ""
                        retries = run.log["retries"]
                        injected = {k: getattr(tally, k) for k in
                                    ("chunks", "flipped", "dropped", "duplicated", "stalled")}
                    rows.append({"faults": kind, "rate": rate, "seed": seed, "outcome": outcome,
                                 "seconds": round(time.monotonic() - start, 2),
                                 "retries": retries, "injected": injected,
                                 "one_line": "\n" not in detail, "error": detail})
                    print(json.dumps(rows[-1]), file=sys.stderr)
    summary = {}
    for row in rows:
        key = f"{row['faults']} @ {row['rate']:g}"
        entry = summary.setdefault(key, {"identical": 0, "failed": 0, "wrong": 0,
                                         "max_seconds": 0.0})
        entry[row["outcome"]] += 1
        entry["max_seconds"] = max(entry["max_seconds"], row["seconds"])
    print(json.dumps({"board": "mps2-an385", "samples": options.samples,
                      "sessions": len(rows), "session_limit_s": LIMIT_S,
                      "identical": sum(r["outcome"] == "identical" for r in rows),
                      "failed_one_line": sum(r["outcome"] == "failed" and r["one_line"]
                                             for r in rows),
                      "wrong": sum(r["outcome"] == "wrong" for r in rows),
                      "by_case": summary,
                      "failures": [r for r in rows if r["outcome"] != "identical"]},
                     indent=2))


if __name__ == "__main__":
    main()
