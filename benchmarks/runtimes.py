"""Host latency and model size of every compiler + runtime pair on the digits model, one run.

    .venv/bin/python benchmarks/runtimes.py [--workdir DIR] [--repeats N]

Builds the digits scenarios up to their compile stage with doit (incremental: a built tree is
reused; the Keras model is trained once through the run cache), then loads every compiled
model into its runtime in this one process and times batch-1 inference over the test split,
one sample at a time, after a warm-up. Prints one JSON document: per pair the format, model
size, accuracy and per-sample latency (mean, median, p90, min in µs).

Inputs are quantized before the clock starts and outputs dequantized after it stops, so the
times are the runtime call only, as in the evaluate stage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# (label, scenario, runtime parameter overrides); all share the Keras digits model.
PAIRS: list[tuple[str, str, dict[str, Any]]] = [
    ("keras-native", "digits-keras-native", {}),
    ("tflite-int8/litert", "digits-tflite-int8", {}),
    ("tflite-int8/tflite-micro", "digits-tflm-int8", {}),
    ("onnx-f32/onnxruntime", "digits-onnx-f32", {}),
    ("tflite→onnx-f32/onnxruntime", "digits-tflite-onnx", {}),
    ("tvm-llvm/relax-vm", "digits-tvm", {}),
    ("iree-llvm-cpu/local-sync", "digits-iree", {"driver": "local-sync"}),
    ("iree-llvm-cpu/local-task", "digits-iree", {"driver": "local-task"}),
]


def build(workdir: Path, scenarios: list[str]) -> None:
    paths = ",".join(str(REPO / "scenarios" / f"{name}.yml") for name in scenarios)
    done = subprocess.run([sys.executable, "-m", "doit", "-f", str(REPO / "dodo.py"), "-d",
                           str(workdir), f"scenario={paths}", "compile"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"doit failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def measure(workdir: Path, scenario_name: str, overrides: dict[str, Any],
            repeats: int) -> dict[str, Any]:
    import numpy as np

    from kenning_tasks import iospec, metrics
    from kenning_tasks.datasets.base import load_splits
    from kenning_tasks.scenario_files import load_scenario
    from kenning_tasks.stages.chain import model_file

    scenario = load_scenario(REPO / "scenarios" / f"{scenario_name}.yml")
    out = workdir / "build" / scenario.name
    model = out / model_file(scenario, "compile")
    spec = iospec.read_spec(model)
    splits = load_splits(out / "dataset" / "splits.npz")
    inputs = [metrics.quantize(x[np.newaxis], spec["input"][0]) for x in splits["x_test"]]
    runtime = scenario.runtime.cls({**scenario.runtime.parameters, **overrides})
    runtime.load(model, spec)
    for sample in inputs[:20]:  # warm-up: first calls allocate and fill caches
        runtime.infer(sample)
    times, outputs = [], []
    for _ in range(repeats):
        outputs.clear()
        for sample in inputs:
            started = time.perf_counter_ns()
            output = runtime.infer(sample)
            times.append((time.perf_counter_ns() - started) / 1000)
            outputs.append(output)
    scores = np.stack([metrics.dequantize(np.asarray(o), spec["output"][0]).reshape(-1)
                       for o in outputs])
    times.sort()
    result: dict[str, Any] = {
        "scenario": scenario.name, "runtime": scenario.runtime.type_name,
        "format": spec["format"], "model_file": model.name,
        "model_size_bytes": model.stat().st_size,
        "accuracy": float(np.mean(scores.argmax(axis=1) == splits["y_test"])),
        "samples": len(times),
        "latency_us": {"mean": statistics.fmean(times), "median": statistics.median(times),
                       "p90": times[int(0.9 * (len(times) - 1))], "min": times[0]},
    }
    extra = getattr(runtime, "extra_measurements", None)
    if extra is not None:
        result.update(extra())
    if "board" in spec:  # IREE's cross-compiled static library (built, not runnable here)
        result["board_object_bytes"] = spec["board"]["object_bytes"]
        result["board_object_text_bytes"] = spec["board"].get("object_text_bytes")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO,
                        help="doit working directory (build/ goes under it); default: project")
    parser.add_argument("--repeats", type=int, default=3,
                        help="passes over the test split per pair")
    args = parser.parse_args()
    build(args.workdir, sorted({scenario for _, scenario, _ in PAIRS}))
    results = {label: measure(args.workdir, scenario, overrides, args.repeats)
               for label, scenario, overrides in PAIRS}
    json.dump({"host_python": sys.version.split()[0], "repeats": args.repeats,
               "pairs": results}, sys.stdout, indent=2, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
