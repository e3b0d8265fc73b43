"""The remote run cache against real servers started on 127.0.0.1 (stopped by their PID).

S3: moto's standalone server with s3fs. SFTP: Debian's OpenSSH sshd with its own config, host
key and a throwaway user key, with sshfs. A stalling TCP proxy in front of either lets a test
kill an upload midway at a known point. The acceptance test builds a scenario in one project
copy and restores every stage of it from the remote in a second copy at another path.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenning_tasks import run_cache
from kenning_tasks.__main__ import main
from kenning_tasks.cache.remote import forget_remotes
from tests.conftest import copy_project
from tests.servers import MotoS3, SFTPServer, StallingProxy, free_port

# Starts servers (and the acceptance test trains): not part of the fast tier.
pytestmark = pytest.mark.slow

KEY = "c" * 64
BUCKET = "kt-cache"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    with MotoS3(tmp_path_factory.mktemp("moto")) as server:
        server.make_bucket(BUCKET)
        yield server


@pytest.fixture(scope="module")
def sftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SFTPServer]:
    with SFTPServer(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "kenning-tasks.toml").write_text("")
    monkeypatch.setenv("KENNING_TASKS_PROJECT", str(folder))
    monkeypatch.setenv("KENNING_TASKS_CACHE", str(folder / "cache"))
    for name in ("KENNING_TASKS_REMOTE_CACHE", "KENNING_TASKS_MAX_CACHE_SIZE"):
        monkeypatch.delenv(name, raising=False)
    forget_remotes()
    yield folder
    forget_remotes()


def configure(project: Path, url: str, options: dict[str, object] | None = None) -> None:
    lines = ["[cache]", f"remote = {json.dumps(url)}", "remote_timeout = 5"]
    if options:
        lines.append("[cache.remote_options]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    (project / "kenning-tasks.toml").write_text("\n".join(lines) + "\n")


def outputs_in(folder: Path, size: int = 20000, seed: int = 0) -> dict[str, Path]:
    import random

    data = random.Random(seed).randbytes(size)
    paths = {"train/model.keras": folder / "train" / "model.keras",
             "train/training.json": folder / "train" / "training.json"}
    paths["train/model.keras"].parent.mkdir(parents=True, exist_ok=True)
    paths["train/model.keras"].write_bytes(data)
    paths["train/training.json"].write_text(json.dumps({"seed": seed}))
    return paths


def s3_env(monkeypatch: pytest.MonkeyPatch, server: MotoS3) -> None:
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)


def manifests(fs: object, root: str) -> list[str]:
    return [p for p in fs.find(root) if "/runs/" in p]  # type: ignore[attr-defined]


# -- S3 (moto) -------------------------------------------------------------------------------

def test_s3_second_runner_restores_from_remote(s3: MotoS3, project: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    s3_env(monkeypatch, s3)
    configure(project, f"s3://{BUCKET}/roundtrip")
    outputs = outputs_in(tmp_path / "a")
    expected = {n: p.read_bytes() for n, p in outputs.items()}
    run_cache.store(project / "cache", "train", KEY, outputs)
    fs = s3.filesystem()
    assert manifests(fs, f"{BUCKET}/roundtrip") == [f"{BUCKET}/roundtrip/runs/train/{KEY}.json"]
    fresh = {n: tmp_path / "b" / n for n in outputs}
    hit = run_cache.restore(tmp_path / "runner-b", "train", KEY, fresh)
    assert hit and hit.source == "remote"
    assert {n: p.read_bytes() for n, p in fresh.items()} == expected
    assert main(["cache", "status"]) == 0
    assert "1 entries, 2 objects" in capsys.readouterr().out.splitlines()[1]


def test_s3_tampered_object_is_detected_and_replaced(s3: MotoS3, project: Path,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(monkeypatch, s3)
    configure(project, f"s3://{BUCKET}/tamper")
    outputs = outputs_in(tmp_path / "a", seed=1)
    good = outputs["train/model.keras"].read_bytes()
    run_cache.store(project / "cache", "train", KEY, outputs)
    fs = s3.filesystem()
    [model_object] = [p for p in fs.find(f"{BUCKET}/tamper/objects")
                      if fs.size(p) == len(good)]
    fs.pipe_file(model_object, bytes(b ^ 0xFF for b in good))  # same size, other bytes
    messages: list[str] = []
    fresh = {n: tmp_path / "b" / n for n in outputs}
    assert run_cache.restore(tmp_path / "runner-b", "train", KEY, fresh,
                             log=messages.append) is None
    assert len(messages) == 1 and "corrupt" in messages[0]
    assert not any(p.exists() for p in fresh.values())
    # runner B recomputes (same bytes) and stores: the write-through replaces the object.
    run_cache.store(tmp_path / "runner-b", "train", KEY, outputs, log=messages.append)
    assert fs.cat_file(model_object) == good and len(messages) == 1
    hit = run_cache.restore(tmp_path / "runner-c", "train", KEY, fresh)
    assert hit and hit.source == "remote"


def test_s3_unreachable_is_one_line_and_the_build_goes_on(project: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", MotoS3.ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", MotoS3.SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    configure(project, f"s3://{BUCKET}/nowhere",
              {"endpoint_url": f"http://127.0.0.1:{free_port()}"})
    messages: list[str] = []
    started = time.monotonic()
    for key in ("1" * 64, "2" * 64):
        outputs = outputs_in(tmp_path / key[:1])
        assert run_cache.restore(project / "cache", "train", key, outputs,
                                 log=messages.append) is None
        run_cache.store(project / "cache", "train", key, outputs, log=messages.append)
    assert time.monotonic() - started < 30
    assert len(messages) == 1 and "unreachable" in messages[0]
    assert MotoS3.SECRET_KEY not in messages[0] and MotoS3.ACCESS_KEY not in messages[0]
    assert run_cache.restore(project / "cache", "train", "1" * 64, outputs)  # local works


def test_s3_killed_upload_leaves_no_entry_that_restores(s3: MotoS3, project: Path,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    s3_env(monkeypatch, s3)
    outputs = outputs_in(tmp_path / "a", size=2_000_000, seed=2)
    run_cache.store(project / "cache", "train", KEY, outputs)  # local only: no remote yet
    prefix = f"{BUCKET}/killed"
    with StallingProxy(s3.port, limit=600_000) as proxy:
        configure(project, f"s3://{prefix}", {"endpoint_url": f"http://127.0.0.1:{proxy.port}"})
        _killed_push(project, proxy)
    fs = s3.filesystem()
    assert manifests(fs, prefix) == []
    assert not [p for p in fs.find(prefix) if fs.size(p) == 2_000_000]  # no partial object
    configure(project, f"s3://{prefix}")
    forget_remotes()
    fresh = {n: tmp_path / "b" / n for n in outputs}
    assert run_cache.restore(tmp_path / "runner-b", "train", KEY, fresh) is None
    assert main(["cache", "push"]) == 0  # a later push completes the upload
    hit = run_cache.restore(tmp_path / "runner-c", "train", KEY, fresh)
    assert hit and hit.source == "remote"


def test_s3_parallel_runners_share_one_prefix(s3: MotoS3, project: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(monkeypatch, s3)
    configure(project, f"s3://{BUCKET}/parallel")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_store_worker, args=(tmp_path / f"runner{i}", i % 2))
               for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    for which in range(2):
        expected = outputs_in(tmp_path / f"expected{which}", seed=10 + which)
        fresh = {n: tmp_path / f"check{which}" / n for n in expected}
        hit = run_cache.restore(tmp_path / f"fresh{which}", "train", str(which) * 64, fresh)
        assert hit and hit.source == "remote"
        assert all(fresh[n].read_bytes() == p.read_bytes() for n, p in expected.items())


def _store_worker(folder: Path, which: int) -> None:
    forget_remotes()
    outputs = outputs_in(folder / "build", seed=10 + which)
    for _ in range(3):
        run_cache.store(folder / "cache", "train", str(which) * 64, outputs)


def _killed_push(project: Path, proxy: StallingProxy) -> None:
    """Run ``cache push`` in its own process and SIGKILL it once the upload has stalled."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    process = subprocess.Popen([sys.executable, "-m", "kenning_tasks", "cache", "push"],
                               cwd=project, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        assert proxy.stalled.wait(60), "the upload never reached the proxy's limit"
    finally:
        process.send_signal(signal.SIGKILL)
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == -signal.SIGKILL, output


# -- SFTP (OpenSSH) ----------------------------------------------------------------------------

def test_sftp_round_trip_and_tampered_object(sftp: SFTPServer, project: Path,
                                             tmp_path: Path) -> None:
    served = tmp_path / "served"
    configure(project, sftp.url(served), sftp.options)
    outputs = outputs_in(tmp_path / "a", seed=3)
    good = outputs["train/model.keras"].read_bytes()
    run_cache.store(project / "cache", "train", KEY, outputs)
    assert (served / "runs" / "train" / f"{KEY}.json").is_file()
    fresh = {n: tmp_path / "b" / n for n in outputs}
    hit = run_cache.restore(tmp_path / "runner-b", "train", KEY, fresh)
    assert hit and hit.source == "remote" and fresh["train/model.keras"].read_bytes() == good
    [model_object] = [p for p in (served / "objects").rglob("*") if p.is_file()
                      and p.stat().st_size == len(good)]
    model_object.write_bytes(good[: len(good) // 2])  # truncated on the server
    messages: list[str] = []
    assert run_cache.restore(tmp_path / "runner-c", "train", KEY, fresh,
                             log=messages.append) is None
    assert len(messages) == 1 and "corrupt" in messages[0]
    assert "root@" not in messages[0]  # user info redacted
    run_cache.store(tmp_path / "runner-c", "train", KEY, outputs, log=messages.append)
    assert model_object.read_bytes() == good
    assert not list((served / "tmp").iterdir())


def test_sftp_unknown_host_key_is_refused(sftp: SFTPServer, project: Path,
                                          tmp_path: Path) -> None:
    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
                   check=True)
    public = (tmp_path / "other_host_key.pub").read_text().split()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{sftp.port} {public[0]} {public[1]}\n")
    configure(project, sftp.url(tmp_path / "served"),
              {**sftp.options, "known_hosts": str(known_hosts)})
    messages: list[str] = []
    outputs = outputs_in(tmp_path / "a")
    run_cache.store(project / "cache", "train", KEY, outputs, log=messages.append)
    assert len(messages) == 1 and "unreachable" in messages[0]
    assert not (tmp_path / "served").exists()  # nothing was written to an untrusted host


def test_sftp_unreachable_hides_the_password(project: Path, tmp_path: Path) -> None:
    configure(project, f"sftp://ci:hunter22pw@127.0.0.1:{free_port()}/srv/cache")
    messages: list[str] = []
    outputs = outputs_in(tmp_path / "a")
    assert run_cache.restore(project / "cache", "train", KEY, outputs,
                             log=messages.append) is None
    run_cache.store(project / "cache", "train", KEY, outputs, log=messages.append)
    assert len(messages) == 1 and "unreachable" in messages[0]
    assert "hunter22pw" not in messages[0] and "ci:" not in messages[0]


def test_sftp_killed_upload_leaves_no_entry_that_restores(sftp: SFTPServer, project: Path,
                                                          tmp_path: Path) -> None:
    served = tmp_path / "served"
    outputs = outputs_in(tmp_path / "a", size=3_000_000, seed=4)
    run_cache.store(project / "cache", "train", KEY, outputs)
    with StallingProxy(sftp.port, limit=1_000_000) as proxy:
        url = sftp.url(served).replace(f":{sftp.port}/", f":{proxy.port}/")
        # The host key is the server's; known_hosts names it under the proxy's port too.
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(sftp.known_hosts.read_text().replace(
            f"]:{sftp.port} ", f"]:{proxy.port} "))
        configure(project, url, {**sftp.options, "known_hosts": str(known_hosts)})
        _killed_push(project, proxy)
    assert not (served / "runs").exists() or not list((served / "runs").rglob("*.json"))
    assert not [p for p in (served / "objects").rglob("*") if p.is_file()
                and p.stat().st_size == 3_000_000]  # no object under its final name
    [partial] = list((served / "tmp").iterdir())  # killed midway through the upload
    assert 0 < partial.stat().st_size < 3_000_000
    configure(project, sftp.url(served), sftp.options)
    forget_remotes()
    fresh = {n: tmp_path / "b" / n for n in outputs}
    assert run_cache.restore(tmp_path / "runner-b", "train", KEY, fresh) is None
    assert main(["cache", "push"]) == 0
    hit = run_cache.restore(tmp_path / "runner-c", "train", KEY, fresh)
    assert hit and hit.source == "remote"


# -- acceptance: a second checkout restores a whole scenario from S3 ----------------------------

SCENARIO = "digits-keras-native"


def _stage_lines(stderr: str, what: str) -> set[str]:
    return set(re.findall(rf"\] (\w+):{SCENARIO}: {what}", stderr))


def test_second_checkout_restores_every_stage_from_s3(s3: MotoS3, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(monkeypatch, s3)
    monkeypatch.setenv("KENNING_TASKS_REMOTE_CACHE", f"s3://{BUCKET}/acceptance")
    monkeypatch.delenv("KENNING_TASKS_PROJECT", raising=False)
    a = copy_project(tmp_path / "checkout-a")
    cold = a.doit(f"scenario={SCENARIO}", "report")
    assert cold.returncode == 0, cold.stderr
    stages = cold.executed_stages()
    assert {"dataset", "train", "evaluate", "report"} <= stages
    assert _stage_lines(cold.stderr, "started") == stages

    b = copy_project(tmp_path / "elsewhere" / "checkout-b")  # another path, empty cache
    warm = b.doit(f"scenario={SCENARIO}", "report")
    assert warm.returncode == 0, warm.stderr
    assert warm.executed_stages() == stages
    assert _stage_lines(warm.stderr, r"restored from the run cache \(remote,") == stages
    assert _stage_lines(warm.stderr, "started") == set()  # nothing recomputed
    for name in ("evaluate/measurements.json", "train/model.keras"):
        assert (b.build(SCENARIO) / name).read_bytes() == (a.build(SCENARIO) / name).read_bytes()

    # Tamper with the trained model on the remote: a third checkout detects it, retrains
    # (deterministically), and everything downstream is still restored.
    fs = s3.filesystem()
    model = (a.build(SCENARIO) / "train" / "model.keras").read_bytes()
    [model_object] = [p for p in fs.find(f"{BUCKET}/acceptance/objects")
                      if fs.size(p) == len(model) and fs.cat_file(p) == model]
    fs.pipe_file(model_object, model[:-1] + bytes([model[-1] ^ 1]))
    c = copy_project(tmp_path / "checkout-c")
    third = c.doit(f"scenario={SCENARIO}", "report")
    assert third.returncode == 0, third.stderr
    assert third.stderr.count("corrupt") == 1
    assert _stage_lines(third.stderr, "started") == {"train"}
    assert fs.cat_file(model_object) == model  # replaced by the recomputed result

    # No credential anywhere: logs, build folders, caches.
    for secret in (MotoS3.SECRET_KEY, MotoS3.ACCESS_KEY):
        for run in (cold, warm, third):
            assert secret not in run.stdout + run.stderr
        for checkout in (a, b, c):
            for path in (checkout.root / "build").rglob("*"):
                assert not path.is_file() or secret.encode() not in path.read_bytes()
            for path in (checkout.root / "cache").rglob("*"):
                assert not path.is_file() or secret.encode() not in path.read_bytes()
