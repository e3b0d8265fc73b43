"""``--shard i/n``: stable assignment, and two shards sharing one remote cache (moto S3)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenning_tasks.ci import shards
from kenning_tasks.errors import ConfigError
from tests.conftest import PYTHON, copy_project
from tests.servers import MotoS3

# Two host pipelines with the same dataset and trained model, on different shards of 2.
SHARED = """dataset: {type: DigitsDataset}
model_wrapper: {type: KerasModel, parameters: {architecture: cnn, epochs: 2}}
"""
SCENARIOS = {"shard-keras": SHARED,
             "shard-tflite": SHARED + "optimizers:\n  - {type: TFLiteCompiler}\n"}
BUCKET = "kt-shards"


def test_assignment_is_stable_and_covers_every_scenario() -> None:
    names = [f"scenario-{i}" for i in range(40)]
    paths = [Path(f"/s/{n}.yml") for n in names]
    parts = [shards.select(paths, (i, 4)) for i in range(1, 5)]
    assert sorted(p for part in parts for p in part) == sorted(paths)  # each exactly once
    assert all(part for part in parts)  # 40 names: no shard empty
    # Adding a scenario never moves another one.
    grown = [*paths, Path("/s/new.yml")]
    for i in range(1, 5):
        assert set(parts[i - 1]) <= set(shards.select(grown, (i, 4)))
    assert [shards.shard_of(n, 2) for n in SCENARIOS] == [1, 2]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "1", ""])
def test_bad_shard_is_one_line(text: str) -> None:
    with pytest.raises(ConfigError, match=r"is not a shard; allowed: i/n with 1 <= i <= n"):
        shards.parse(text, "--shard")


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    with MotoS3(tmp_path_factory.mktemp("moto")) as server:
        server.make_bucket(BUCKET)
        yield server


def run_shard(root: Path, shard: str, server: MotoS3) -> tuple[subprocess.CompletedProcess,
                                                                 dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENNING_TASKS_")}
    env.update(server.env)
    env.update({"PYTHONPATH": str(root), "KENNING_TASKS_CACHE": str(root / "cache"),
                "KENNING_TASKS_RESOURCES": str(root / "resources"),
                "KENNING_TASKS_REMOTE_CACHE": f"s3://{BUCKET}/pipeline-1"})
    done = subprocess.run([PYTHON, "-m", "kenning_tasks", "run", "--shard", shard,
                           "--junit", "junit.xml", f"scenario={','.join(SCENARIOS)}", "report"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    return done, json.loads((root / "build" / "run-summary.json").read_text())


@pytest.mark.slow
def test_second_shard_restores_the_shared_stages_from_the_remote(s3: MotoS3,
                                                                  tmp_path: Path) -> None:
    runners = []
    for index in (1, 2):  # two CI jobs, one after the other, each with an empty local cache
        root = copy_project(tmp_path / f"runner-{index}").root
        for name, text in SCENARIOS.items():
            (root / "scenarios" / f"{name}.yml").write_text(text)
        runners.append((root, *run_shard(root, f"{index}/2", s3)))
    (first_root, first, first_summary), (second_root, second, second_summary) = runners
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert {s["pipeline"] for s in first_summary["stages"]} == {"shard-keras"}
    assert {s["pipeline"] for s in second_summary["stages"]} == {"shard-tflite"}
    status = {s["stage"]: (s["status"], s.get("cache")) for s in second_summary["stages"]}
    # dataset, train and the identity keras→keras convert are the first shard's results.
    assert status["dataset"] == status["train"] == status["convert"] == ("restored", "remote")
    assert {s for s, (st, _) in status.items() if st == "ran"} == {
        "quantize", "compile", "evaluate", "report"}
    assert "train:shard-tflite: started" not in second.stderr
    assert (second_root / "junit.xml").is_file()
    trained = [(r / "build" / n / "train" / "model.keras").read_bytes()
               for r, n in ((first_root, "shard-keras"), (second_root, "shard-tflite"))]
    assert trained[0] == trained[1]
