"""What the simulate and flash stages share: quantize the test split, run it, save results.

Targets hold only what follows from the inputs (the firmware and the test split): the raw
outputs (int8, or float32 for a float32 model), the exact per-inference counts and the
firmware's facts. How the session went (seconds, retries, raw byte counts, QEMU's PID) goes
to ``<stage>/run-log.json``, which is not a target and is never hashed or cached.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts, iospec
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import StageContext

ELF = "firmware/firmware.elf"            # the loadable image: no debug info
FIRMWARE_INFO = "firmware/firmware.json"
RUN_LOG = "run-log.json"


def outputs(stage: str) -> list[str]:
    """What simulate and flash write: raw outputs + counts, and the session summary."""
    return [f"{stage}/target_outputs.npz", f"{stage}/target_run.json"]


def session_timeout_s(scenario: Scenario) -> float:
    """The limit of one whole session (the one timeout rule, README "Timeouts"): the protocol
    block's ``timeout_s`` when the scenario has one, else the platform's; each request has
    its own deadline besides (mcu.link). A limit never enters a signature or a target."""
    if scenario.protocol is not None:
        return scenario.protocol.parameters["timeout_s"]
    return scenario.platform.parameters.get("timeout_s", 600.0)


def inputs(scenario: Scenario) -> list[str]:
    model = scenario.model_file("compile")
    return [ELF, FIRMWARE_INFO, model + ".json", "dataset/splits.npz"]


def quantized_test_inputs(ctx: StageContext) -> list[bytes]:
    import numpy as np

    from kenning_tasks import metrics
    from kenning_tasks.datasets.base import load_splits

    spec = iospec.read_spec(ctx.path(ctx.scenario.model_file("compile")))["input"][0]
    x_test = load_splits(ctx.path("dataset/splits.npz"))["x_test"]
    return [metrics.quantize(sample[np.newaxis], spec).tobytes() for sample in x_test]


def process_allowance_s(ctx: StageContext) -> float:
    """Real time to allow for the first inference: from the model's MACs, at a pessimistic
    10 instructions per MAC and 2 million instructions per second (a loaded QEMU)."""
    import json

    macs = json.loads(ctx.path(FIRMWARE_INFO).read_text()).get("macs", 0)
    return 5.0 + 10 * macs / 2e6


def stream_test_split(ctx: StageContext,
                      session: Callable[[Path, Any, list[bytes], float, float], Any]) -> None:
    """Run every test sample on the target through ``session`` and save what came back.

    ``session(elf, board, samples, timeout_s, process_s)`` returns an ``mcu.TargetRun``.
    """
    import numpy as np

    board = ctx.scenario.board
    samples = quantized_test_inputs(ctx)
    ctx.log(f"streaming {len(samples)} samples to {board.name}")
    run = session(ctx.path(ELF), board, samples, session_timeout_s(ctx.scenario),
                  process_allowance_s(ctx))
    # The output tensor's bytes in its own dtype (int8, or float32 for a float32 model).
    dtype = np.dtype(iospec.read_spec(ctx.path(ctx.scenario.model_file("compile")))
                     ["output"][0]["dtype"])
    outputs_array = np.stack([np.frombuffer(o, dtype=dtype) for o in run.outputs])
    buffer = io.BytesIO()
    np.savez(buffer, outputs=outputs_array,
             instructions=np.asarray(run.instructions, np.int64),
             ticks=np.asarray(run.ticks, np.int64),
             # per kernel call of the last sample's inference, in the unit of instructions
             op_counts=np.asarray(run.op_counts, np.int64))
    names = outputs(ctx.stage)
    artifacts.write_bytes(ctx.path(names[0]), buffer.getvalue())
    artifacts.write_json(ctx.path(names[1]), {
        "board": board.name, "samples": len(samples),
        # The bytes of one clean session (retries and garbage excluded): a function of the
        # firmware and the inputs, like everything in this file.
        "uart_bytes_sent": run.uart_bytes_sent, "uart_bytes_received": run.uart_bytes_received,
        "target_info": run.target_info,
    })
    artifacts.write_json(ctx.out_dir / RUN_LOG, {"stage": ctx.stage, **run.log})
    retried = f", {run.log['retries']} retried after link faults" if run.log.get("retries") else ""
    ctx.log(f"{len(samples)} inferences in {run.seconds:.2f} s{retried}, mean "
            f"{np.mean(run.instructions):.0f} {run.target_info.get('timing_unit', 'ticks')}")
