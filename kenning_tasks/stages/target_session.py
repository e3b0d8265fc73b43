"""What the simulate and flash stages share: quantize the test split, run it, save results."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from kenning_tasks import artifacts, iospec
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import StageContext
from kenning_tasks.stages.chain import model_file


def outputs(stage: str) -> list[str]:
    """What simulate and flash write: raw int8 outputs + counts, and the session summary."""
    return [f"{stage}/target_outputs.npz", f"{stage}/target_run.json"]


def parameters(scenario: Scenario) -> dict[str, Any]:
    return {"platform": scenario.platform.to_dict(),
            "protocol": scenario.protocol.to_dict() if scenario.protocol else None}


def inputs(scenario: Scenario) -> list[str]:
    model = model_file(scenario, "compile")
    return ["firmware/firmware.elf", "firmware/firmware.json", model + ".json",
            "dataset/splits.npz"]


def quantized_test_inputs(ctx: StageContext) -> list[bytes]:
    import numpy as np

    from kenning_tasks import metrics
    from kenning_tasks.datasets.base import load_splits

    spec = iospec.read_spec(ctx.path(model_file(ctx.scenario, "compile")))["input"][0]
    x_test = load_splits(ctx.path("dataset/splits.npz"))["x_test"]
    return [metrics.quantize(sample[np.newaxis], spec).tobytes() for sample in x_test]


def timeout_s(scenario: Scenario) -> float:
    if scenario.protocol is not None:
        return scenario.protocol.parameters["timeout_s"]
    return scenario.platform.parameters.get("timeout_s", 600.0)


def stream_test_split(ctx: StageContext,
                      session: Callable[[Any, Any, list[bytes], float], Any]) -> None:
    """Run every test sample on the target through ``session`` and save what came back."""
    import numpy as np

    from kenning_tasks.stages.firmware import ELF, board_of

    board = board_of(ctx.scenario)
    samples = quantized_test_inputs(ctx)
    ctx.log(f"streaming {len(samples)} samples to {board.name}")
    run = session(ctx.path(ELF), board, samples, timeout_s(ctx.scenario))
    outputs_array = np.stack([np.frombuffer(o, dtype=np.int8) for o in run.outputs])
    buffer = io.BytesIO()
    np.savez(buffer, outputs=outputs_array, instructions=np.asarray(run.instructions, np.int64))
    names = outputs(ctx.stage)
    artifacts.write_bytes(ctx.path(names[0]), buffer.getvalue())
    artifacts.write_json(ctx.path(names[1]), {
        "board": board.name, "samples": len(samples),
        "uart_bytes_sent": run.uart_bytes_sent, "uart_bytes_received": run.uart_bytes_received,
        "uart_seconds": run.seconds, "target_info": run.target_info,
    })
    ctx.log(f"{len(samples)} inferences in {run.seconds:.2f} s, mean "
            f"{np.mean(run.instructions):.0f} {run.target_info.get('timing_unit', 'ticks')}")
