"""How many of Kenning's own scenario files validate here, and why the others do not.

Reads Kenning's repository (a git mirror, ``$KENNING_MIRROR``, default the read-only mirror of
this machine) at a tag (``$KENNING_TAG``, default v0.8.2): every file under
``scripts/configs``, ``scripts/jsonconfigs`` and ``scripts/optimizationconfigs``, plus the
JSON/YAML code blocks printed in ``docs/source`` that are scenario-shaped (a mapping with a
scenario block). Each is validated as written (``load_pipelines``); every problem line is
sorted into a reason. Prints JSON:

- ``validate``: files that validate, of ``scenario_shaped``;
- ``first_reason`` / ``any_reason``: how many files fail first on / anywhere on each reason;
- ``blocked_only_by_pending``: files whose only problems are blocks being added by the data-set
  work (Kenning's data sets and model wrappers);
- ``with_our_dataset_and_model``: the same measurement with each Kenning data set and model
  wrapper that is being added here (``kenning_names.PENDING``) replaced by DigitsDataset and
  KerasModel (TorchModel for a PyTorch wrapper), which measures every other block
  (optimizers, runtimes, platforms, protocols, reports, grids) until those exist;
- ``files``: per file, ok or its problem lines.

Run: ``.venv/bin/python benchmarks/kenning_compat.py``
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kenning_tasks.errors import ScenarioError
from kenning_tasks.kenning_names import PENDING as PENDING_BLOCKS
from kenning_tasks.scenario_files import load_pipelines, read_file

MIRROR = os.environ.get("KENNING_MIRROR", "/work/.mirror/antmicro+kenning/repo")
TAG = os.environ.get("KENNING_TAG", "v0.8.2")
FOLDERS = ("scripts/configs/", "scripts/jsonconfigs/", "scripts/optimizationconfigs/")
SCENARIO_KEYS = {"dataset", "model_wrapper", "optimizers", "runtime", "platform", "protocol",
                 "report", "optimization_parameters", "runtime_builder", "automl"}
# (reason, pattern on a problem line), first match wins.
REASONS = [
    ("pending: Kenning data set or model wrapper being added", r"not available in this "
     r"version yet"),
    # model_path is supported; a local model file of Kenning's tree is not on this machine.
    ("model_path file not here", r"model_wrapper\.parameters\.model_path: file .* does not "
     r"exist"),
    ("pending: PyTorch → TFLite (being added)", r"torch→\(keras\)"),
    ("out of scope: object detection", r"object detection"),
    ("out of scope: LLM", r"LLMs are out of scope"),
    ("out of scope: GPU", r"GPU|TensorRT|CUDA"),
    ("out of scope: AutoML", r"AutoML"),
    ("out of scope: pruning/clustering", r"pruning and clustering"),
    ("out of scope: runtime_builder", r"runtime_builder"),
    ("out of scope: KenningFlow", r"KenningFlow"),
    ("Renode (simulated: true)", r"Renode"),
    ("microTVM", r"microTVM"),
    ("report-only file (kenning report)", r"only a report block"),
    ("no equivalent block", r"has no equivalent here"),
    ("protocol without an embedded platform", r"protocol: .* is this computer"),
    ("missing dataset/model_wrapper (a fragment)", r"missing required block"),
    ("numerics not runnable by the runtime", r"runs full-integer|float16 kernels"),
    ("format chain does not connect", r"no conversion"),
    ("unsupported parameter value", r"is not supported here"),
    ("board not in platforms.yml", r"is not allowed; allowed: .*platforms\.yml"),
    ("a user's own class (not installed)", r"unknown \w+ type '[\w.]+\.[\w]+'"),
    ("unknown parameter", r"unknown parameter"),
]
PENDING = {"pending: Kenning data set or model wrapper being added",
           "pending: PyTorch → TFLite (being added)"}


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", MIRROR, *args], capture_output=True, text=True,
                          check=True).stdout


def corpus() -> list[tuple[str, str, str]]:
    """(name, suffix, text) of every candidate file."""
    files = [f for f in git("ls-tree", "-r", "--name-only", TAG).splitlines() if f]
    result = [(f, Path(f).suffix, git("show", f"{TAG}:{f}")) for f in files
              if f.startswith(FOLDERS)]
    for doc in (f for f in files if f.startswith("docs/source/") and f.endswith(".md")):
        text = git("show", f"{TAG}:{doc}")
        blocks = re.finditer(r"```(json|yaml|yml)[^\n]*\n(.*?)```", text, re.S)
        for index, match in enumerate(blocks):
            suffix = ".json" if match.group(1) == "json" else ".yml"
            result.append((f"{doc}#{index}", suffix, match.group(2)))
    return result


def reason_of(line: str) -> str:
    for reason, pattern in REASONS:
        if re.search(pattern, line):
            return reason
    return "other"


def ours(data: dict) -> dict:
    """The file with our data set and model wrapper in place of Kenning's pending ones."""
    result = dict(data)
    for key, replacement in (("dataset", "DigitsDataset"), ("model_wrapper", "KerasModel")):
        name = str((data.get(key) or {}).get("type", "")).rsplit(".", 1)[-1]
        if PENDING_BLOCKS.get(name) == key:
            if "PyTorch" in name:
                replacement = "TorchModel"
            result[key] = {"type": replacement}
    return result


def measure(texts: list[tuple[str, str, str]], tmp: Path, substitute: bool) -> dict:
    files: dict[str, object] = {}
    first, anywhere = Counter(), Counter()
    shaped = ok = pending_only = 0
    for index, (name, suffix, text) in enumerate(texts):
        path = tmp / f"k{index:03d}{suffix}"
        path.write_text(text)
        try:
            data = read_file(path)
        except ScenarioError as error:
            # A KenningFlow (a list of runners) is scenario-shaped too; other texts are not.
            if "KenningFlow" not in str(error):
                continue
            data = None
        if data is not None and not SCENARIO_KEYS & set(data):
            continue
        shaped += 1
        if substitute and data is not None:
            path.write_text(json.dumps(ours(data)))
            path = path.rename(path.with_suffix(".json"))
        try:
            pipelines, _ = load_pipelines(path)
        except ScenarioError as error:
            lines = [line.replace(str(path), name) for line in error.problems]
            reasons = [reason_of(line) for line in lines]
            first[reasons[0]] += 1
            anywhere.update(set(reasons))
            pending_only += set(reasons) <= PENDING
            files[name] = lines
            continue
        ok += 1
        files[name] = f"ok ({len(pipelines)} pipeline{'s' * (len(pipelines) != 1)})"
    return {"scenario_shaped": shaped, "validate": ok, "blocked_only_by_pending": pending_only,
            "first_reason": dict(first.most_common()), "any_reason": dict(anywhere.most_common()),
            "files": files}


def main() -> None:
    started = time.perf_counter()
    texts = corpus()
    with tempfile.TemporaryDirectory() as tmp:
        as_written = measure(texts, Path(tmp), substitute=False)
    with tempfile.TemporaryDirectory() as tmp:
        substituted = measure(texts, Path(tmp), substitute=True)
    substituted.pop("blocked_only_by_pending")
    print(json.dumps({"kenning": f"{MIRROR}@{TAG}", **as_written,
                      "with_our_dataset_and_model": substituted,
                      "seconds": round(time.perf_counter() - started, 2)}, indent=2))


if __name__ == "__main__":
    main()
