"""Faults and bad input: never a silent wrong result, never a traceback, nothing left behind.

Each expected failure is one line, a non-zero exit and no half-written artifact. The fast
tests drive ``validate``/``verify``/``doit`` on a private copy of the project; those that train
a model are marked slow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kenning_tasks import safe_names
from kenning_tasks.errors import ScenarioError
from kenning_tasks.scenario_files import load_pipelines
from tests.conftest import REPO, Project

SCENARIO = (REPO / "scenarios" / "digits-tflite-int8.yml").read_text()


def one_error_line(stderr: str) -> str:
    """The single ``error:`` line of a failed command; fails on a traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def kenning_tasks(project: Project, *args: str, timeout: float = 120
                  ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project.root),
           "KENNING_TASKS_CACHE": str(project.root / "cache")}
    return subprocess.run([sys.executable, "-m", "kenning_tasks", *args], cwd=project.root,
                          env=env, capture_output=True, text=True, timeout=timeout)


def files_outside_build_and_cache(root: Path) -> dict[str, int]:
    """Every file of the project but build/ and cache/, with its mtime (to see writes)."""
    found = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if relative.parts[0] in ("build", "cache") or "__pycache__" in relative.parts:
            continue
        found[str(relative)] = path.lstat().st_mtime_ns
    return found


@pytest.fixture
def shared_project(module_project: Project) -> Project:
    """The module's project copy with an empty build/ (for tests that only load the graph)."""
    import shutil

    shutil.rmtree(module_project.root / "build", ignore_errors=True)
    return module_project


# --- 2. values are finite and in range ------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "expected"), [
    ("learning_rate: 0.005", "learning_rate: .nan",
     "model_wrapper.parameters.learning_rate: nan is not a finite number"),
    ("learning_rate: 0.005", "learning_rate: -.inf",
     "model_wrapper.parameters.learning_rate: -inf is not a finite number"),
    ("test_fraction: 0.25", "test_fraction: .inf",
     "dataset.parameters.test_fraction: inf is not a finite number"),
    ("seed: 1234\n", "seed: 4294967296\n",
     "model_wrapper.parameters.seed: 4294967296 is above the maximum 4294967295"),
    ("seed: 12345", "seed: -1", "dataset.parameters.seed: -1 is below the minimum 0"),
    ("dataset_percentage: 0.25", "dataset_percentage: 1.0e+400",
     "optimizers[0].parameters.dataset_percentage: inf is not a finite number"),
])
def test_non_finite_and_out_of_range_values_are_one_line(tmp_path: Path, old: str, new: str,
                                                          expected: str) -> None:
    path = tmp_path / "bad.yml"
    assert old in SCENARIO
    path.write_text(SCENARIO.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_pipelines(path)
    assert expected in str(caught.value)


def test_nan_timeout_of_a_session_is_refused(tmp_path: Path) -> None:
    text = (REPO / "scenarios" / "digits-int8-qemu-m4.yml").read_text()
    path = tmp_path / "qemu.yml"
    assert text.endswith("protocol:\n  type: UARTProtocol\n")
    path.write_text(text + "  parameters:\n    timeout_s: .nan\n")
    with pytest.raises(ScenarioError, match=r"protocol.parameters.timeout_s: nan is not a "
                                            r"finite number"):
        load_pipelines(path)


def test_nan_inside_a_mapping_parameter_is_refused(tmp_path: Path) -> None:
    text = (REPO / "scenarios" / "digits-int8-qemu-m4.yml").read_text()
    path = tmp_path / "defines.yml"
    marker = "    board: mps2-an386\n"
    assert marker in text
    path.write_text(text.replace(marker, marker + "    defines: {GAIN: .nan}\n", 1))
    with pytest.raises(ScenarioError, match=r"defines.GAIN: nan is not a finite number"):
        load_pipelines(path)


def test_duplicate_yaml_key_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "twice.yml"
    path.write_text(SCENARIO.replace("    epochs: 15\n", "    epochs: 15\n    epochs: 1\n"))
    line = SCENARIO.splitlines().index("    epochs: 15") + 1
    with pytest.raises(ScenarioError) as caught:
        load_pipelines(path)
    assert str(caught.value) == (f"{path}: line {line + 1}: duplicate key 'epochs' (first "
                                 f"given on line {line}); give each key once")


def test_duplicate_json_key_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_text('{\n  "dataset": {"type": "DigitsDataset"},\n  "model_wrapper": {\n'
                    '    "type": "KerasModel",\n    "parameters": {"epochs": 15,\n'
                    '                   "epochs": 1}}}\n')
    with pytest.raises(ScenarioError) as caught:
        load_pipelines(path)
    assert str(caught.value) == (f"{path}: line 6: duplicate key 'epochs' (first given on "
                                 "line 5); give each key once")


def test_yaml_merge_keys_still_override(tmp_path: Path) -> None:
    from kenning_tasks.scenario_parsing import load_yaml

    data = load_yaml(tmp_path / "m.yml", "base: &b {epochs: 15, seed: 1}\nx:\n  <<: *b\n"
                                         "  epochs: 1\n")
    assert data["x"] == {"epochs": 1, "seed": 1}


@pytest.mark.parametrize(("content", "expected"), [
    (b"\x7fELF\x02\x01\x01\x00\xff\xfe", "not UTF-8 text (byte 0xff at offset 8)"),
    (b"dataset: {type: DigitsDataset}\x00\n", "holds a NUL byte at offset 30"),
])
def test_binary_scenario_file_is_one_line(project: Project, content: bytes,
                                          expected: str) -> None:
    path = project.root / "scenarios" / "garbage.yml"
    path.write_bytes(content)
    result = kenning_tasks(project, "validate", "scenario=garbage")
    assert result.returncode != 0
    assert one_error_line(result.stderr) == f"error: {path}: {expected}; a scenario is a " + (
        "YAML or JSON text file" if "UTF-8" in expected
        else "YAML or JSON text file, not binary data")


def test_deeply_nested_json_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 50000 + "]" * 50000)
    with pytest.raises(ScenarioError, match="nested too deeply to be a scenario"):
        load_pipelines(path)


def test_directory_as_scenario_file_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yml"
    folder.mkdir()
    with pytest.raises(ScenarioError, match="is a directory"):
        load_pipelines(folder)


# --- 3. names are safe ----------------------------------------------------------------------

@pytest.mark.parametrize("name", [".", "..", "...", ".hidden", "-rf", "a/b", "a\\b", "a b",
                                  "tab\there", "new\nline", "bell\x07", "x" * 101, ""])
def test_unsafe_names_are_refused(name: str) -> None:
    assert not safe_names.is_safe(name)
    with pytest.raises(ScenarioError, match="cannot be a folder name"):
        safe_names.check_name(name, "grid variant id", "f.yml")


@pytest.mark.parametrize("name", ["digits-tflite-int8", "v-0123abcd", "a.b_c+d", "X" * 100])
def test_safe_names_pass(name: str) -> None:
    assert safe_names.is_safe(name)


@pytest.mark.parametrize("file_name", ["...yml", "..json"])
def test_a_scenario_named_like_a_path_writes_nothing_outside_build_and_cache(
        shared_project: Project, file_name: str) -> None:
    path = shared_project.root / "scenarios" / file_name
    path.write_text(SCENARIO if file_name.endswith(".yml") else "{}")
    before = files_outside_build_and_cache(shared_project.root)
    try:
        for spec in (str(path), Path(file_name).stem):
            run = shared_project.doit(f"scenario={spec}", "report", timeout=120)
            assert run.returncode != 0
            line = one_error_line(run.stderr)
            assert "cannot be a folder name" in line, line
        validated = kenning_tasks(shared_project, "validate", f"scenario={path}")
        assert validated.returncode != 0 and "cannot be a folder name" in validated.stderr
        assert files_outside_build_and_cache(shared_project.root) == before
        assert not any((shared_project.root / "build").rglob("*.tflite"))
    finally:
        path.unlink()


# --- 1. change detection that a kept mtime cannot fool ------------------------------------

def replace_keeping_size_and_mtime(path: Path, offset: int | None = None) -> None:
    """What ``cp -p`` / ``rsync -t`` of a damaged copy does: new bytes, same size and mtime."""
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if offset is None else offset] ^= 0x01
    replacement = path.with_name(path.name + ".replacement")
    replacement.write_bytes(bytes(data))
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns


def test_stamp_checker_sees_a_replacement_with_kept_size_and_mtime(tmp_path: Path) -> None:
    from kenning_tasks.change_detection import StampChecker

    checker = StampChecker()
    path = tmp_path / "input.bin"
    path.write_bytes(bytes(range(256)) * 4)
    state = checker.get_state(str(path), None)
    assert not checker.check_modified(str(path), os.stat(path), state)
    replace_keeping_size_and_mtime(path)
    assert checker.check_modified(str(path), os.stat(path), state)


def test_stamp_checker_rehashes_a_touched_file_and_keeps_it_up_to_date(tmp_path: Path) -> None:
    from kenning_tasks.change_detection import StampChecker

    checker = StampChecker()
    path = tmp_path / "input.bin"
    path.write_bytes(b"same bytes")
    state = checker.get_state(str(path), None)
    os.utime(path, ns=(1, 1))  # touched: a new stamp, the same bytes (early cutoff)
    assert not checker.check_modified(str(path), os.stat(path), state)
    assert checker.get_state(str(path), state)["stamp"] != state["stamp"]


def test_a_touched_build_file_is_hashed_once_across_runs(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from kenning_tasks import change_detection

    monkeypatch.setenv("KENNING_TASKS_PROJECT", str(tmp_path))
    (tmp_path / "build").mkdir()
    path = tmp_path / "build" / "splits.npz"
    path.write_bytes(b"identical bytes")
    saved = change_detection.record(path)
    os.utime(path, ns=(5, 5))  # an upstream rerun wrote the same bytes (early cutoff)
    hashed: list[str] = []
    real = change_detection.sha256_file
    monkeypatch.setattr(change_detection, "sha256_file", lambda p: hashed.append(p) or real(p))
    current = change_detection.stamp(path.stat())
    first = change_detection.HashMemo()  # one run ...
    assert first.sha256(str(path), current) == saved["sha256"]
    first.save()
    second = change_detection.HashMemo()  # ... and the next: remembered, not hashed again
    assert second.sha256(str(path), current) == saved["sha256"]
    assert hashed == [str(path)]
    path.write_bytes(b"different bytes")  # a new stamp is never answered from the memo
    assert second.sha256(str(path), change_detection.stamp(path.stat())) != saved["sha256"]


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run cache for the module: each test's dataset stage is restored from it."""
    return tmp_path_factory.mktemp("run-cache")


@pytest.fixture
def dataset_built(project: Project, shared_cache: Path) -> Project:
    """A project whose digits dataset stage has run (restored from the shared run cache)."""
    (project.root / "cache").symlink_to(shared_cache, target_is_directory=True)
    run = project.doit("scenario=digits-tflite-int8", "dataset")
    assert run.returncode == 0, run.stdout + run.stderr
    return project


SPLITS = "build/digits-tflite-int8/dataset/splits.npz"


@pytest.mark.slow
def test_output_replaced_with_kept_mtime_reruns_its_stage(dataset_built: Project) -> None:
    splits = dataset_built.root / SPLITS
    good = splits.read_bytes()
    replace_keeping_size_and_mtime(splits)
    run = dataset_built.doit("scenario=digits-tflite-int8", "dataset")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.executed == ["dataset:digits-tflite-int8"]
    assert splits.read_bytes() == good  # restored from the (verified) run cache


def rot_in_place(project: Project, relative: str, task_id: str) -> None:
    """Bit rot: a byte changes and nothing else — inode, size, mtime and ctime stay.

    User space cannot change bytes without the kernel moving ctime, so after flipping the byte
    the stamp doit recorded is set to the file's new one, as if the disk had done it.
    """
    import json
    import sqlite3

    from kenning_tasks.change_detection import stamp

    path = project.root / relative
    with open(path, "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0x04]))
    state_file = project.root / "build" / ".doit-state.sqlite3"
    with sqlite3.connect(state_file) as connection:
        (data,) = connection.execute("SELECT task_data FROM doit WHERE task_id = ?",
                                     (task_id,)).fetchone()
        record = json.loads(data)
        record["_values_:"]["outputs"][str(path)]["stamp"] = stamp(path.stat())
        connection.execute("UPDATE doit SET task_data = ? WHERE task_id = ?",
                           (json.dumps(record), task_id))


@pytest.mark.slow
def test_verify_finds_bit_rot_and_the_next_run_repairs_it(dataset_built: Project) -> None:
    splits = dataset_built.root / SPLITS
    good = splits.read_bytes()
    rot_in_place(dataset_built, SPLITS, "dataset:digits-tflite-int8")
    fooled = dataset_built.doit("scenario=digits-tflite-int8", "dataset")
    assert fooled.executed == []  # no stamp can see this: that is what verify is for
    verified = kenning_tasks(dataset_built, "verify", "scenario=digits-tflite-int8")
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert "Traceback" not in verified.stderr
    lines = verified.stdout.splitlines()
    assert lines[0].startswith(f"dataset:digits-tflite-int8: output {SPLITS} has different "
                               "bytes than the stage wrote (sha256 ")
    assert lines[-1].endswith("1 stage no longer matches and reruns with "
                              "`doit scenario=digits-tflite-int8`")
    rerun = dataset_built.doit("scenario=digits-tflite-int8", "dataset")
    assert rerun.executed == ["dataset:digits-tflite-int8"]
    assert splits.read_bytes() == good
    again = kenning_tasks(dataset_built, "verify", "scenario=digits-tflite-int8")
    assert again.returncode == 0 and again.stdout.strip().endswith("every file matches")


# --- 4. a damaged or locked doit state database ---------------------------------------------

def make_state_database(state_file: Path) -> None:
    """A database as doit's sqlite3 backend writes it, with one task's row."""
    import sqlite3

    state_file.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(state_file) as connection:
        connection.execute("CREATE TABLE doit (task_id text not null primary key, "
                           "task_data json)")
        connection.executemany("INSERT INTO doit VALUES (?, ?)",
                               [(f"dataset:s{i}", '{"_values_:": {}}') for i in range(200)])


def damage_file(path: Path, damage: str) -> None:
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "header":
        data[:16] = b"not a database!!"
    else:
        data = bytearray(os.urandom(len(data)))
    path.write_bytes(bytes(data))


def state_warnings(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if "state database" in line]


@pytest.mark.parametrize("damage", ["truncate", "header", "garbage"])
def test_damaged_state_database_is_set_aside_in_one_line(shared_project: Project,
                                                         damage: str) -> None:
    state_file = shared_project.root / "build" / ".doit-state.sqlite3"
    make_state_database(state_file)
    damage_file(state_file, damage)
    run = shared_project.doit("scenario=digits-tflite-int8", "list")
    assert run.returncode == 0, run.stdout + run.stderr
    (warning,) = state_warnings(run.stderr)
    assert warning.startswith("warning: doit's state database build/.doit-state.sqlite3 is "
                              "unreadable ("), warning
    assert "set aside as .doit-state.sqlite3.damaged-" in warning
    assert warning.endswith("and started anew (stages are restored from the run cache)")
    assert len(list(state_file.parent.glob(".doit-state.sqlite3.damaged-*"))) == 1
    again = shared_project.doit("scenario=digits-tflite-int8", "list")
    assert again.returncode == 0 and not state_warnings(again.stderr)


@pytest.mark.slow
def test_damaged_state_database_is_rebuilt_from_the_run_cache(dataset_built: Project) -> None:
    state_file = dataset_built.root / "build" / ".doit-state.sqlite3"
    damage_file(state_file, "header")
    run = dataset_built.doit("scenario=digits-tflite-int8", "dataset")
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(state_warnings(run.stderr)) == 1
    assert run.executed == ["dataset:digits-tflite-int8"]
    assert "restored from the local run cache" in run.stdout
    assert dataset_built.doit("scenario=digits-tflite-int8", "dataset").executed == []


def hold_lock(state_file: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding doit's database locked (an exclusive transaction)."""
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(state_file), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_locked_state_database_waits_then_fails_in_one_line(shared_project: Project,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    state_file = shared_project.root / "build" / ".doit-state.sqlite3"
    make_state_database(state_file)
    monkeypatch.setenv("KENNING_TASKS_LOCK_WAIT_S", "1")
    holder = hold_lock(state_file, 30)
    try:
        run = shared_project.doit("scenario=digits-tflite-int8", "list")
    finally:
        holder.kill()
        holder.wait()
    assert run.returncode != 0
    assert "waiting for doit's state database build/.doit-state.sqlite3: locked by another " \
           "process (up to 1 s)" in run.stderr
    assert one_error_line(run.stderr) == (
        "error: doit's state database build/.doit-state.sqlite3 is locked by another process "
        "(waited 1 s): another run on this project, or a tool holding it open; let it finish "
        "or stop it, then run again")


def test_a_lock_released_while_waiting_lets_the_run_go_on(shared_project: Project) -> None:
    state_file = shared_project.root / "build" / ".doit-state.sqlite3"
    make_state_database(state_file)
    holder = hold_lock(state_file, 60)
    env = {**os.environ, "PYTHONPATH": str(shared_project.root)}
    run = subprocess.Popen([sys.executable, "-m", "doit", "-f",
                            str(shared_project.root / "dodo.py"), "scenario=digits-tflite-int8",
                            "list"], cwd=shared_project.root, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        waiting = run.stderr.readline()
        holder.kill()  # the other process ends: its lock goes with it
        holder.wait()
        stdout, stderr = run.communicate(timeout=60)
    finally:
        for process in (holder, run):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert waiting.startswith("waiting for doit's state database"), waiting + stderr
    assert run.returncode == 0, stdout + stderr
    assert "Traceback" not in stderr and "dataset" in stdout


# --- 7. one line for every expected failure --------------------------------------------------

def test_ctrl_c_is_one_line_and_keeps_nothing_partial(project: Project) -> None:
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(project.root), "KENNING_TASKS_CACHE": "off"}
    process = subprocess.Popen(
        [sys.executable, "-m", "doit", "-f", str(project.root / "dodo.py"),
         "scenario=digits-tflite-int8", "train"],
        cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # pytest-xdist workers ignore SIGINT and children inherit that: restore the default,
        # as an interactive shell gives it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # Interrupt train once it runs: its framework import alone takes seconds, so the signal
        # lands inside the stage (dataset finishes in a fraction of a second and would race it).
        for line in process.stderr:
            if "train:digits-tflite-int8: started" in line:
                break
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    assert one_error_line(stderr) == ("error: interrupted; nothing partial was kept "
                                      "(completed stages are kept and reused)")
    assert "finished in" not in stdout
    build = project.root / "build" / "digits-tflite-int8"
    assert (build / "dataset" / "splits.npz").is_file()  # the completed stage is kept
    logs = ("framework-output.log", "run-log.json")  # what the frameworks said: not artifacts
    assert not [p for p in (build / "train").rglob("*") if p.is_file() and p.name not in logs]


@pytest.fixture
def tiny_disk(project: Project) -> Path:
    """``build/`` on a 300 KiB tmpfs (as root; skipped where mounting is not allowed)."""
    build = project.root / "build"
    build.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(build)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield build
    finally:
        subprocess.run(["umount", "-l", str(build)], check=True)


@pytest.mark.slow
def test_full_disk_is_one_line_and_leaves_no_partial_file(project: Project,
                                                          tiny_disk: Path) -> None:
    run = project.doit("scenario=digits-tflite-int8", "dataset", cache=False)
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    assert ("no space left on device writing build/digits-tflite-int8/dataset; free space or "
            "raise the limit, then run again") in run.stdout + run.stderr
    folder = tiny_disk / "digits-tflite-int8" / "dataset"
    assert not any(p.name.startswith(".") or p.name == "splits.npz" for p in folder.iterdir())


@pytest.mark.slow
def test_no_op_run_on_a_full_disk_is_not_a_traceback(dataset_built: Project) -> None:
    build = dataset_built.root / "build"
    moved = dataset_built.root / "build-on-disk"
    build.rename(moved)
    build.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(build)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        subprocess.run(["cp", "-a", f"{moved}/.", str(build)], check=True)
        with open(build / "filler", "wb", buffering=0) as filler, pytest.raises(OSError):
            while True:  # fill the disk
                filler.write(b"\0" * 65536)
        run = dataset_built.doit("scenario=digits-tflite-int8", "dataset")
    finally:
        subprocess.run(["umount", "-l", str(build)], check=True)
    assert "Traceback" not in run.stdout + run.stderr
    assert run.up_to_date == ["dataset:digits-tflite-int8"]
    assert "warning: doit's state database was not updated (database or disk is full)" \
        in run.stderr


@pytest.mark.parametrize("chunked", [False, True])
def test_truncated_download_is_one_line_and_keeps_nothing(tmp_path: Path, chunked: bool,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from kenning_tasks.datasets import resources
    from kenning_tasks.errors import StageError
    from tests.servers import CuttingHTTPServer

    cache = tmp_path / "resources"
    monkeypatch.setenv("KENNING_TASKS_RESOURCES", str(cache))
    with CuttingHTTPServer(17003, 8501, chunked=chunked) as server:
        url = server.url("series.csv")
        with pytest.raises(StageError) as caught:
            resources.fetch(url, None, "dataset.parameters.source", log=lambda line: None)
    expected = ("connection closed after 8501 bytes, in the middle of a chunked reply"
                if chunked else "connection closed after 8501 of 17003 bytes")
    assert str(caught.value) == f"dataset.parameters.source: cannot download {url}: {expected}"
    assert not [p for p in cache.rglob("*") if p.is_file()]


@pytest.mark.parametrize(("source", "expected"), [
    ("/dev/zero", "/dev/zero is not a regular file (a device, pipe or socket)"),
    ("missing.csv", "missing.csv does not exist"),
    (".", "is a directory; expected a file"),
])
def test_bad_source_is_one_line_at_validation_and_never_hangs(shared_project: Project,
                                                              source: str, expected: str) -> None:
    path = shared_project.root / "scenarios" / "bad-source.yml"
    path.write_text(
        f"dataset:\n  type: CSVDataset\n  parameters: {{source: '{source}', window_size: 8}}\n"
        "model_wrapper:\n  type: KerasModel\n  parameters: {architecture: mlp, epochs: 1}\n"
        "runtime:\n  type: KerasRuntime\n")
    try:
        run = shared_project.doit("scenario=bad-source", "dataset", timeout=60)
    finally:
        path.unlink()
    assert run.returncode != 0
    line = one_error_line(run.stderr)
    assert "dataset.parameters.source: " in line and expected in line, line
    assert not (shared_project.root / "build" / "bad-source").exists()


@pytest.mark.slow
def test_flipped_firmware_byte_is_caught_by_the_stamp_and_by_verify(project: Project) -> None:
    """The issue's case: a byte of firmware.elf changed, its size and mtime kept."""
    scenario, elf = "digits-int8-qemu-m4", "build/digits-int8-qemu-m4/firmware/firmware.elf"
    built = project.doit(f"scenario={scenario}", "simulate", timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    firmware = project.root / elf
    good = firmware.read_bytes()
    replace_keeping_size_and_mtime(firmware)  # cp -p / rsync -t of a damaged copy
    rerun = project.doit(f"scenario={scenario}", "simulate", timeout=900)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.executed == [f"firmware:{scenario}"]  # restored; simulate saw the same bytes
    assert firmware.read_bytes() == good
    rot_in_place(project, elf, f"firmware:{scenario}")  # bit rot: no stamp moves
    verified = kenning_tasks(project, "verify", f"scenario={scenario}")
    assert verified.returncode == 1 and f"output {elf} has different bytes" in verified.stdout
    repaired = project.doit(f"scenario={scenario}", "simulate", timeout=900)
    assert repaired.returncode == 0 and firmware.read_bytes() == good
    assert f"firmware:{scenario}" in repaired.executed


DIVERGING_WRAPPER = '''"""A user's block: KerasModel with no upper bound on learning_rate."""

from kenning_tasks.model_wrappers.keras import KerasModel
from kenning_tasks.params import Param


class DivergingKerasModel(KerasModel):
    PARAMETERS = tuple(Param("learning_rate", float, 0.005, "Adam learning rate", minimum=0.0)
                       if p.name == "learning_rate" else p for p in KerasModel.PARAMETERS)
'''


@pytest.mark.slow
def test_nan_training_loss_fails_train_in_one_line_and_keeps_no_model(project: Project) -> None:
    """A learning rate of 1e30 (a user's block allows it) really trains into NaN."""
    (project.root / "diverging.py").write_text(DIVERGING_WRAPPER)
    (project.root / "scenarios" / "nan-loss.yml").write_text(
        "dataset:\n  type: DigitsDataset\nmodel_wrapper:\n  type: diverging.DivergingKerasModel\n"
        "  parameters: {architecture: mlp, epochs: 3, learning_rate: 1.0e+30}\n"
        "runtime:\n  type: KerasRuntime\n")
    run = project.doit("scenario=nan-loss", "train", timeout=600)
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    message = ("train: the training loss became nan in epoch 1; the model is not kept; lower "
               "model_wrapper.parameters.learning_rate (1e+30) or check the data")
    assert message in run.stdout + run.stderr, run.stdout + run.stderr
    assert "epoch 2/3" not in run.stderr  # training stopped at the first NaN epoch
    assert not (project.build("nan-loss") / "train" / "model.keras").exists()


def test_a_download_named_dot_dot_stays_inside_its_cache_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kenning_tasks.datasets import resources
    from tests.servers import CuttingHTTPServer

    cache = tmp_path / "resources"
    monkeypatch.setenv("KENNING_TASKS_RESOURCES", str(cache))
    with CuttingHTTPServer(1000, 1000) as server:
        url = server.url("data/..")
        path = resources.fetch(url, None, "dataset.parameters.source", log=lambda line: None)
        assert path.read_bytes() == server.body
    assert path.name == "resource" and path.parent.parent == cache


@pytest.mark.slow
def test_a_full_run_cache_disk_keeps_the_result_with_one_warning(project: Project) -> None:
    cache = project.root / "cache"
    cache.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(cache)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        run = project.doit("scenario=digits-tflite-int8", "dataset")
    finally:
        subprocess.run(["umount", "-l", str(cache)], check=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    warnings = [line for line in run.stderr.splitlines() if "run cache: result not stored" in line]
    assert len(warnings) == 1 and warnings[0].endswith(
        "warning: run cache: result not stored in cache (no space left on device)"), warnings
    assert (project.root / SPLITS).is_file()
