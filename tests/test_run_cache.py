"""The run cache without servers: synthetic outputs, a local store and a ``file://`` remote.

Self-healing (damaged entries and objects are one-line misses that the next store replaces),
entries checked against what the stage declares, all-or-nothing restores, the size limit,
remote read-through and write-through, settings, the ``cache`` command and file modes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenning_tasks import artifacts, run_cache
from kenning_tasks.__main__ import main
from kenning_tasks.cache import entries, gc
from kenning_tasks.cache.local import LocalCache
from kenning_tasks.cache.remote import RemoteCache, forget_remotes
from kenning_tasks.cache.settings import cache_settings, redact, redact_text
from kenning_tasks.errors import ConfigError

KEY = "a" * 64
OTHER_KEY = "b" * 64


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder of its own (config file, cache) and no cache settings from outside."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "kenning-tasks.toml").write_text("")
    monkeypatch.setenv("KENNING_TASKS_PROJECT", str(project))
    monkeypatch.setenv("KENNING_TASKS_CACHE", str(project / "cache"))
    for name in ("KENNING_TASKS_REMOTE_CACHE", "KENNING_TASKS_MAX_CACHE_SIZE"):
        monkeypatch.delenv(name, raising=False)
    forget_remotes()
    yield project
    forget_remotes()


def outputs_in(folder: Path, contents: dict[str, bytes]) -> dict[str, Path]:
    """Write synthetic stage outputs; returns {output name: path}."""
    paths = {}
    for name, data in contents.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths[name] = path
    return paths


def wipe(paths: dict[str, Path]) -> None:
    for path in paths.values():
        path.unlink(missing_ok=True)


CONTENTS = {"train/model.keras": b"weights" * 300, "train/training.json": b'{"loss": 0.1}\n'}


def stored(tmp_path: Path, key: str = KEY, contents: dict[str, bytes] = CONTENTS,
           root: Path | None = None, log: list[str] | None = None
           ) -> tuple[Path, dict[str, Path]]:
    root = root or tmp_path / "project" / "cache"
    outputs = outputs_in(tmp_path / "build", contents)
    run_cache.store(root, "train", key, outputs, log=(log if log is not None else []).append)
    return root, outputs


def entry_file(root: Path, key: str = KEY) -> Path:
    return root / "runs" / "train" / f"{key}.json"


def object_of(root: Path, data: bytes) -> Path:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    return root / "objects" / digest[:2] / digest


# -- local store: hits, damage, declared outputs ---------------------------------------------

def test_restore_is_a_local_hit_with_the_same_bytes(tmp_path: Path) -> None:
    root, outputs = stored(tmp_path)
    wipe(outputs)
    hit = run_cache.restore(root, "train", KEY, outputs)
    assert hit and hit.source == "local" and hit.key == KEY
    assert {n: p.read_bytes() for n, p in outputs.items()} == CONTENTS
    assert run_cache.restore(root, "train", OTHER_KEY, outputs) is None
    manifest = json.loads(entry_file(root).read_text())
    assert manifest["outputs"]["train/model.keras"] == {
        "sha256": object_of(root, CONTENTS["train/model.keras"]).name,
        "size": len(CONTENTS["train/model.keras"])}


def test_truncated_manifest_is_one_line_miss_then_replaced(tmp_path: Path) -> None:
    root, outputs = stored(tmp_path)
    path = entry_file(root)
    path.write_bytes(path.read_bytes()[:40])
    messages: list[str] = []
    assert run_cache.restore(root, "train", KEY, outputs, log=messages.append) is None
    assert len(messages) == 1 and "damaged" in messages[0] and "\n" not in messages[0]
    assert not path.exists()  # reported once: the damaged entry is gone
    run_cache.store(root, "train", KEY, outputs)  # the recomputed result replaces it
    messages.clear()
    assert run_cache.restore(root, "train", KEY, outputs, log=messages.append)
    assert messages == []


def test_corrupt_object_is_one_line_miss_and_is_replaced(tmp_path: Path) -> None:
    root, outputs = stored(tmp_path)
    obj = object_of(root, CONTENTS["train/model.keras"])
    data = bytearray(obj.read_bytes())
    data[100] ^= 0x01  # one bit, same size: bit rot
    obj.write_bytes(bytes(data))
    wipe(outputs)
    messages: list[str] = []
    assert run_cache.restore(root, "train", KEY, outputs, log=messages.append) is None
    assert len(messages) == 1 and "corrupt" in messages[0]
    assert not any(p.exists() for p in outputs.values())  # nothing half-restored
    outputs = outputs_in(tmp_path / "build", CONTENTS)
    run_cache.store(root, "train", KEY, outputs)
    assert obj.read_bytes() == CONTENTS["train/model.keras"]
    wipe(outputs)
    assert run_cache.restore(root, "train", KEY, outputs)


def test_restore_is_all_or_nothing(tmp_path: Path) -> None:
    root, outputs = stored(tmp_path)
    object_of(root, CONTENTS["train/training.json"]).write_bytes(b"{}")
    for path in outputs.values():
        path.write_bytes(b"previous")
    assert run_cache.restore(root, "train", KEY, outputs, log=lambda m: None) is None
    assert all(p.read_bytes() == b"previous" for p in outputs.values())
    assert not [p for p in (tmp_path / "build").rglob(".*") if p.is_file()]  # no temporaries


def test_manifest_naming_another_valid_object_is_refused(tmp_path: Path) -> None:
    root, outputs = stored(tmp_path)
    other = {"train/model.keras": b"another model" * 300, "train/training.json": b"{}\n"}
    stored(tmp_path, OTHER_KEY, other, root=root)
    # Point this entry's model at the other entry's (valid) object, size and all.
    body = json.loads(entry_file(root).read_text())
    body["outputs"]["train/model.keras"] = json.loads(
        entry_file(root, OTHER_KEY).read_text())["outputs"]["train/model.keras"]
    entry_file(root).write_text(json.dumps(body))
    messages: list[str] = []
    assert run_cache.restore(root, "train", KEY, outputs, log=messages.append) is None
    assert len(messages) == 1 and "checksum" in messages[0]
    # A manifest copied whole from another entry is refused too.
    stored(tmp_path, KEY, CONTENTS, root=root)
    entry_file(root).write_bytes(entry_file(root, OTHER_KEY).read_bytes())
    messages.clear()
    assert run_cache.restore(root, "train", KEY, outputs, log=messages.append) is None
    assert "entry of train/bbbbbbbbbbbb" in messages[0]


def test_entry_must_name_exactly_the_declared_outputs(tmp_path: Path) -> None:
    root, outputs = stored(tmp_path)
    messages: list[str] = []
    fewer = {"train/model.keras": outputs["train/model.keras"]}
    assert run_cache.restore(root, "train", KEY, fewer, log=messages.append) is None
    assert "not the ones the stage writes (train/training.json)" in messages[0]


def test_old_format_entry_is_a_quiet_miss_and_is_overwritten(tmp_path: Path) -> None:
    root, outputs = stored(tmp_path)
    entry_file(root).write_text(json.dumps({n: "0" * 64 for n in outputs}))
    messages: list[str] = []
    assert run_cache.restore(root, "train", KEY, outputs, log=messages.append) is None
    assert messages == []
    run_cache.store(root, "train", KEY, outputs)
    assert json.loads(entry_file(root).read_text())["format"] == entries.FORMAT


def test_parallel_stores_of_one_cache_are_safe(tmp_path: Path) -> None:
    root = tmp_path / "project" / "cache"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_store_worker, args=(root, tmp_path / f"w{i}", i % 2))
               for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    for i in range(2):
        outputs = {"train/model.keras": tmp_path / f"check{i}"}
        assert run_cache.restore(root, "train", str(i) * 64, outputs)
        assert outputs["train/model.keras"].read_bytes() == bytes([i]) * 5000


def _store_worker(root: Path, folder: Path, which: int) -> None:
    outputs = outputs_in(folder, {"train/model.keras": bytes([which]) * 5000})
    for _ in range(5):
        run_cache.store(root, "train", str(which) * 64, outputs, log=lambda m: None)


# -- the size limit ------------------------------------------------------------------------

def test_size_limit_evicts_least_recently_used_entries(tmp_path: Path, isolated: Path
                                                       ) -> None:
    root = isolated / "cache"
    keys = [c * 64 for c in "cde"]
    for age, key in zip((300, 200, 100), keys, strict=True):
        stored(tmp_path, key, {"train/model.keras": key.encode() * 16}, root=root)  # 1 KiB
        os.utime(entry_file(root, key), (time.time() - age,) * 2)
    outputs = {"train/model.keras": tmp_path / "out"}
    assert run_cache.restore(root, "train", keys[0], outputs)  # the oldest is used again
    (isolated / "kenning-tasks.toml").write_text("[cache]\nmax_size = '4500B'\n")
    stored(tmp_path, "f" * 64, {"train/model.keras": b"f" * 1024}, root=root)
    remaining = {p.stem for p in (root / "runs" / "train").glob("*.json")}
    assert remaining == {keys[0], keys[2], "f" * 64}  # keys[1] was the least recently used
    assert not object_of(root, keys[1].encode() * 16).exists()
    assert gc.local_size(LocalCache(root)) <= 4500


def test_gc_removes_unnamed_objects_and_dead_writers_temporaries(tmp_path: Path) -> None:
    root, _ = stored(tmp_path)
    orphan = root / "objects" / "ff" / ("f" * 64)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a store killed before its entry")
    dead = root / "objects" / "ff" / f".{'f' * 64}.{_dead_pid()}.abcd1234"
    dead.write_bytes(b"partial")
    os.utime(dead, (time.time() - 7200,) * 2)
    done = gc.collect_local(LocalCache(root), 10**9)
    assert done.objects == 1 and not orphan.exists() and not dead.exists()
    assert len(list((root / "runs").rglob("*.json"))) == 1


# -- a file:// remote ------------------------------------------------------------------------

def test_remote_read_through_and_write_through(tmp_path: Path, isolated: Path) -> None:
    remote = tmp_path / "shared"
    (isolated / "kenning-tasks.toml").write_text(f"[cache]\nremote = 'file://{remote}'\n")
    _, outputs = stored(tmp_path)
    assert entry_file(remote).is_file()  # written through
    root_b = tmp_path / "other-runner" / "cache"
    wipe(outputs)
    hit = run_cache.restore(root_b, "train", KEY, outputs)
    assert hit and hit.source == "remote"
    assert {n: p.read_bytes() for n, p in outputs.items()} == CONTENTS
    hit = run_cache.restore(root_b, "train", KEY, outputs)  # now kept locally as well
    assert hit and hit.source == "local"
    assert not any((remote / "tmp").iterdir())  # uploads were renamed into place


def test_tampered_remote_object_is_a_miss_and_is_replaced(tmp_path: Path, isolated: Path
                                                          ) -> None:
    remote = tmp_path / "shared"
    (isolated / "kenning-tasks.toml").write_text(f"[cache]\nremote = 'file://{remote}'\n")
    _, outputs = stored(tmp_path)
    tampered = object_of(remote, CONTENTS["train/model.keras"])
    tampered.write_bytes(b"X" * tampered.stat().st_size)
    root_b = tmp_path / "b" / "cache"
    messages: list[str] = []
    assert run_cache.restore(root_b, "train", KEY, outputs, log=messages.append) is None
    assert len(messages) == 1 and "corrupt" in messages[0] and str(remote) in messages[0]
    assert not list((root_b / "objects").rglob("*" + tampered.name))  # never kept
    run_cache.store(root_b, "train", KEY, outputs, log=messages.append)  # recomputed result
    assert tampered.read_bytes() == CONTENTS["train/model.keras"]
    assert run_cache.restore(tmp_path / "c" / "cache", "train", KEY, outputs)


def test_remote_entry_with_a_missing_object_is_a_miss(tmp_path: Path, isolated: Path) -> None:
    remote = tmp_path / "shared"
    (isolated / "kenning-tasks.toml").write_text(f"[cache]\nremote = 'file://{remote}'\n")
    _, outputs = stored(tmp_path)
    object_of(remote, CONTENTS["train/training.json"]).unlink()
    messages: list[str] = []
    root_b = tmp_path / "b" / "cache"
    assert run_cache.restore(root_b, "train", KEY, outputs, log=messages.append) is None
    assert "incomplete" in messages[0]
    assert not (root_b / "runs").exists() or not any((root_b / "runs").rglob("*.json"))


def test_unusable_remote_degrades_to_local_with_one_line(tmp_path: Path, isolated: Path
                                                         ) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the remote folder should be")
    (isolated / "kenning-tasks.toml").write_text(f"[cache]\nremote = 'file://{blocked}/c'\n")
    messages: list[str] = []
    root, outputs = stored(tmp_path, log=messages)  # the push fails: said once
    assert run_cache.restore(root, "train", OTHER_KEY, outputs, log=messages.append) is None
    stored(tmp_path, OTHER_KEY, root=root, log=messages)
    assert len(messages) == 1 and "unreachable" in messages[0]
    assert "local cache only" in messages[0]
    assert run_cache.restore(root, "train", OTHER_KEY, outputs)  # the local cache works


def test_unusable_remote_is_said_once_for_all_workers_of_a_run(tmp_path: Path, isolated: Path
                                                              ) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    (isolated / "kenning-tasks.toml").write_text(f"[cache]\nremote = 'file://{blocked}/c'\n")
    said = tmp_path / "said.txt"
    context = multiprocessing.get_context("fork")  # like doit -n: workers of one run
    for i in range(3):
        worker = context.Process(target=_offline_worker,
                                 args=(tmp_path / f"w{i}", said, str(i) * 64))
        worker.start()
        worker.join(30)
        assert worker.exitcode == 0
    assert len(said.read_text().splitlines()) == 1
    # The next run tries the remote again and says so again: here the marker is made to be
    # another run's (this process was the workers' run).
    marker = isolated / "cache" / "remote-offline.json"
    run = json.loads(marker.read_text())["run"]
    marker.write_text(json.dumps({"run": [[1, 0], run[1]]}))
    forget_remotes()
    messages: list[str] = []
    stored(tmp_path, "f" * 64, root=isolated / "cache", log=messages)
    assert len(messages) == 1 and "unreachable" in messages[0]


def _offline_worker(folder: Path, said: Path, key: str) -> None:
    forget_remotes()

    def log(message: str) -> None:
        with open(said, "a") as out:
            out.write(message + "\n")

    outputs = outputs_in(folder, CONTENTS)
    root = Path(os.environ["KENNING_TASKS_CACHE"])
    assert run_cache.restore(root, "train", key, outputs, log=log) is None
    run_cache.store(root, "train", key, outputs, log=log)


def test_remote_writers_in_parallel_leave_complete_entries(tmp_path: Path, isolated: Path
                                                           ) -> None:
    remote = tmp_path / "shared"
    (isolated / "kenning-tasks.toml").write_text(f"[cache]\nremote = 'file://{remote}'\n")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_remote_worker, args=(tmp_path / f"runner{i}", i % 2))
               for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    for i in range(2):
        outputs = {"train/model.keras": tmp_path / f"check{i}"}
        hit = run_cache.restore(tmp_path / f"fresh{i}", "train", str(i) * 64, outputs)
        assert hit and hit.source == "remote"
        assert outputs["train/model.keras"].read_bytes() == bytes([i]) * 5000


def _remote_worker(folder: Path, which: int) -> None:
    forget_remotes()
    outputs = outputs_in(folder / "build", {"train/model.keras": bytes([which]) * 5000})
    for _ in range(3):
        run_cache.store(folder / "cache", "train", str(which) * 64, outputs)


def test_remote_gc_removes_old_entries_and_their_unnamed_objects(tmp_path: Path,
                                                                 isolated: Path) -> None:
    remote = tmp_path / "shared"
    (isolated / "kenning-tasks.toml").write_text(f"[cache]\nremote = 'file://{remote}'\n")
    stored(tmp_path, KEY)
    stored(tmp_path, OTHER_KEY, {"train/model.keras": b"new", "train/training.json":
                                 CONTENTS["train/training.json"]})
    month_ago = time.time() - 40 * 86400
    old = [entry_file(remote), object_of(remote, CONTENTS["train/model.keras"]),
           object_of(remote, CONTENTS["train/training.json"])]
    for path in old:
        os.utime(path, (month_ago, month_ago))
    assert main(["cache", "gc", "--remote", "--older-than", "30d"]) == 0
    assert not entry_file(remote).exists()
    assert not object_of(remote, CONTENTS["train/model.keras"]).exists()
    # Still named by the newer entry: kept although old.
    assert object_of(remote, CONTENTS["train/training.json"]).exists()
    assert entry_file(remote, OTHER_KEY).exists()


# -- the cache command -----------------------------------------------------------------------

def test_cache_command_push_pull_status_clear(tmp_path: Path, isolated: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = stored(tmp_path)  # no remote yet: local only
    remote = tmp_path / "shared"
    (isolated / "kenning-tasks.toml").write_text(f"[cache]\nremote = 'file://{remote}'\n")
    assert main(["cache", "push"]) == 0
    assert "pushed 1 entries" in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert not any(root.rglob("*.json"))
    assert main(["cache", "status"]) == 0
    assert "0 entries only local, 1 only remote" in capsys.readouterr().out
    assert main(["cache", "pull"]) == 0
    assert "pulled 1 entries" in capsys.readouterr().out
    assert entry_file(root).is_file()
    assert main(["cache", "clear", "--remote"]) == 0
    assert not any(remote.rglob("*.json"))


def test_cache_command_errors_are_one_line(tmp_path: Path, isolated: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "push"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    (isolated / "kenning-tasks.toml").write_text("[cache]\nmax_size = 'lots'\n")
    assert main(["cache", "status"]) == 2
    err = capsys.readouterr().err
    assert "kenning-tasks.toml: [cache] max_size: 'lots' is not allowed" in err


# -- settings ----------------------------------------------------------------------------------

def test_settings_from_config_and_environment(isolated: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated / "kenning-tasks.toml").write_text(
        "[cache]\nremote = 's3://bucket/prefix'\nmax_size = '2GiB'\nremote_max_age = '2w'\n"
        "[cache.remote_options]\nendpoint_url = 'http://127.0.0.1:9'\n")
    settings = cache_settings()
    assert settings.remote == "s3://bucket/prefix" and settings.max_size == 2 * 2**30
    assert settings.remote_max_age_s == 14 * 86400
    assert settings.remote_options == {"endpoint_url": "http://127.0.0.1:9"}
    monkeypatch.setenv("KENNING_TASKS_REMOTE_CACHE", "off")
    monkeypatch.setenv("KENNING_TASKS_MAX_CACHE_SIZE", "123456")
    settings = cache_settings()
    assert settings.remote is None and settings.max_size == 123456


@pytest.mark.parametrize(("text", "message"), [
    ("[cache]\nremtoe = 's3://x'\n", "[cache] unknown key 'remtoe'; allowed: remote"),
    ("[cahce]\n", "unknown table [cahce]; allowed: [cache]"),
    ("[cache]\nremote = \n", "not valid TOML"),
    ("[cache]\nremote_timeout = nan\n", "remote_timeout: nan is not allowed"),
    ("[cache]\nmax_size = -1\n", "max_size: -1 is not allowed"),
    ("[cache]\nremote_max_age = 30\n", "remote_max_age: 30 is not allowed"),
    ("[cache]\nremote = 'bucket/prefix'\n", "'bucket/prefix' is not allowed; allowed: an URL"),
])
def test_bad_settings_are_one_line_errors(isolated: Path, text: str, message: str) -> None:
    (isolated / "kenning-tasks.toml").write_text(text)
    with pytest.raises(ConfigError, match=None) as error:
        cache_settings()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_urls_and_messages_are_redacted() -> None:
    assert redact("s3://AKIA:s3cret@host:9000/bucket?X-Sig=abc") == "s3://***@host:9000/bucket?***"
    assert redact("sftp://ci@cache.example/srv") == "sftp://***@cache.example/srv"
    assert redact("file:///mnt/shared") == "file:///mnt/shared"
    text = redact_text("failed for https://user:pw@h/x with secret hunter22", ("hunter22",))
    assert "pw" not in text and "hunter22" not in text


def test_unknown_protocol_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown protocol 'nosuchfs'"):
        RemoteCache("nosuchfs://x/y", {}, 1.0)


# -- file modes and temporaries ---------------------------------------------------------------

@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664)])
def test_files_follow_the_umask(tmp_path: Path, isolated: Path, mask: int, mode: int) -> None:
    from kenning_tasks.datasets import resources

    previous = os.umask(mask)
    try:
        written = artifacts.write_bytes(tmp_path / "artifact.bin", b"x")
        with artifacts.atomic_path(tmp_path / "tool-output.elf") as tmp:
            tmp.write_bytes(b"elf")
        root, outputs = stored(tmp_path)
        wipe(outputs)
        assert run_cache.restore(root, "train", KEY, outputs)
        source = tmp_path / "download.csv"
        source.write_bytes(b"a,b\n")
        os.environ["KENNING_TASKS_RESOURCES"] = str(tmp_path / "resources")
        import hashlib

        downloaded = resources.fetch(source.as_uri(), hashlib.sha256(b"a,b\n").hexdigest(), "t")
    finally:
        os.umask(previous)
        os.environ.pop("KENNING_TASKS_RESOURCES", None)
    files = [written, tmp_path / "tool-output.elf", *outputs.values(), downloaded,
             *[p for p in root.rglob("*") if p.is_file() and "locks" not in p.parts]]
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(mode)}


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "firmware"
    (folder / "model").mkdir(parents=True)
    dead = folder / f".firmware.elf.{_dead_pid()}.k3j2l1x0.elf"
    old_style = folder / "model" / ".model.c.q1w2e3r4.c"
    live = folder / f".firmware.json.{os.getpid()}.a1b2c3d4.json"
    kept = [folder / "firmware.elf", folder / ".gitkeep", live]
    for path in [dead, old_style, *kept]:
        path.write_bytes(b"x")
    assert sorted(artifacts.remove_stale_temporaries(folder)) == sorted([dead, old_style])
    assert all(p.exists() for p in kept)


def test_atomic_path_names_its_writer() -> None:
    with artifacts.atomic_path(Path(os.environ["KENNING_TASKS_PROJECT"]) / "x.elf") as tmp:
        assert tmp.name.startswith(f".x.elf.{os.getpid()}.") and tmp.suffix == ".elf"
        assert artifacts.is_temporary(tmp)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


# -- through doit: the dataset stage (no training) ---------------------------------------------

@pytest.mark.slow  # runs doit in a project copy
def test_damaged_cache_heals_through_doit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from tests.conftest import copy_project

    monkeypatch.delenv("KENNING_TASKS_PROJECT")
    project = copy_project(tmp_path / "checkout")
    scenario = "digits-keras-native"
    folder = project.build(scenario) / "dataset"
    previous = os.umask(0o002)  # a group-shared checkout; the doit process inherits it
    try:
        assert project.doit(f"scenario={scenario}", "dataset").returncode == 0
    finally:
        os.umask(previous)
    written = [p for p in [*folder.rglob("*"), *(project.root / "cache").rglob("*")]
               if p.is_file() and "locks" not in p.parts]
    assert written and {oct(p.stat().st_mode & 0o777) for p in written} == {oct(0o664)}
    [entry] = (project.root / "cache" / "runs" / "dataset").glob("*.json")
    entry.write_bytes(entry.read_bytes()[:25])  # truncated manifest
    splits = folder / "splits.npz"
    good = splits.read_bytes()
    splits.unlink()
    stale = folder / f".splits.npz.{_dead_pid()}.k3j2l1x0.npz"  # left by a SIGKILLed run
    stale.write_bytes(good[:100])
    run = project.doit(f"scenario={scenario}", "dataset")
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("damaged") == 1 and "Traceback" not in run.stderr
    assert "dataset:digits-keras-native: started" in run.stderr
    assert splits.read_bytes() == good and not stale.exists()
    # Replaced: the next restore is a clean local hit. Then a corrupt object heals the same way.
    splits.unlink()
    run = project.doit(f"scenario={scenario}", "dataset")
    assert "restored from the run cache (local," in run.stderr and "damaged" not in run.stderr
    obj = object_of(project.root / "cache", good)
    obj.write_bytes(b"\0" * len(good))
    splits.unlink()
    run = project.doit(f"scenario={scenario}", "dataset")
    assert run.returncode == 0 and run.stderr.count("corrupt") == 1
    assert obj.read_bytes() == good
