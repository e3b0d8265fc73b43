"""Real servers for the remote-cache tests, started on 127.0.0.1 and stopped by their PID.

- ``MotoS3``: moto's standalone S3-compatible server (``moto_server``, from ``moto[server]``);
- ``SFTPServer``: Debian's OpenSSH ``sshd`` with its own config, host key and a throwaway
  user key, on a free port (run as root, logging in as root with that key only).

Both are context managers; leaving them stops the server (and, for sshd, the per-connection
processes it forked) on every path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
MOTO_SERVER = Path(sys.executable).with_name("moto_server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on port {port} within {timeout_s} s")


def _children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _stop(process: subprocess.Popen, children: list[int] = ()) -> None:
    for pid in [process.pid, *children]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    for pid in children:  # not ours to wait for (reparented); make sure they are gone
        deadline = time.monotonic() + 5
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class MotoS3:
    """moto's S3 server; ``env`` holds what a client needs (endpoint and test credentials)."""

    ACCESS_KEY = "AKIAKTTESTACCESSKEY1"
    SECRET_KEY = "kt-secret-Zq8Jm2XbW4nR6vT0yL1pC9sD"

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = {"AWS_ACCESS_KEY_ID": self.ACCESS_KEY,
                    "AWS_SECRET_ACCESS_KEY": self.SECRET_KEY,
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ENDPOINT_URL": self.endpoint,
                    "AWS_EC2_METADATA_DISABLED": "true"}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> MotoS3:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "moto.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            _wait_for_port(self.port, self.process, 60, log)
        except BaseException:
            _stop(self.process)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            _stop(self.process)

    def filesystem(self) -> Any:  # an s3fs.S3FileSystem
        import s3fs

        return s3fs.S3FileSystem(key=self.ACCESS_KEY, secret=self.SECRET_KEY,
                                 endpoint_url=self.endpoint, skip_instance_cache=True)

    def make_bucket(self, name: str) -> None:
        self.filesystem().mkdir(name)


class SFTPServer:
    """sshd on a free port serving SFTP to root with a throwaway key (host key checked)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.port = free_port()
        self.user_key = self.workdir / "user_key"
        self.known_hosts = self.workdir / "known_hosts"
        self.process: subprocess.Popen | None = None

    def url(self, path: Path | str) -> str:
        return f"sftp://root@127.0.0.1:{self.port}{Path(path).resolve()}"

    @property
    def options(self) -> dict[str, object]:
        return {"client_keys": [str(self.user_key)], "known_hosts": str(self.known_hosts)}

    def __enter__(self) -> SFTPServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        host_key = self.workdir / "host_key"
        for key in (host_key, self.user_key):
            subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                           check=True, stdin=subprocess.DEVNULL)
        (self.workdir / "authorized_keys").write_text(
            (self.workdir / "user_key.pub").read_text())
        public = (self.workdir / "host_key.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {public[0]} {public[1]}\n")
        config = self.workdir / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}",
            f"PidFile {self.workdir / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.workdir / 'authorized_keys'}",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
            "Subsystem sftp internal-sftp", "LogLevel ERROR", "MaxStartups 50",
            "MaxSessions 50", ""]))
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        log = self.workdir / "sshd.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)],
                                            stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        try:
            _wait_for_port(self.port, self.process, 20, log)
        except BaseException:
            _stop(self.process)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            _stop(self.process, _children(self.process.pid))


class StallingProxy:
    """A TCP proxy to a local server that stops forwarding uploads after ``limit`` bytes.

    It stands for a network link that stalls mid-upload, so a test can kill the uploading
    process at a known point: ``stalled`` is set once ``limit`` bytes went client → server.
    """

    def __init__(self, target_port: int, limit: int) -> None:
        import threading

        self.target_port = target_port
        self.limit = limit
        self.port = free_port()
        self.sent = 0
        self.stalled = threading.Event()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.1)

    def __enter__(self) -> StallingProxy:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(5)

    def _spawn(self, target: Any, *args: Any) -> None:
        import threading

        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [client, server]
            self._spawn(self._pump, client, server, True)
            self._spawn(self._pump, server, client, False)

    def _pump(self, source: socket.socket, sink: socket.socket, upload: bool) -> None:
        with contextlib.suppress(OSError):
            while not self._closing.is_set():
                data = source.recv(16384)
                if not data:
                    return
                if upload:
                    with self._lock:
                        allowed = max(0, self.limit - self.sent)
                        self.sent += min(len(data), allowed)
                    if allowed < len(data):
                        sink.sendall(data[:allowed])
                        self.stalled.set()
                        self._closing.wait()  # hold the rest: the link is stuck
                        return
                sink.sendall(data)


class CuttingHTTPServer:
    """An HTTP server on 127.0.0.1 that closes the connection part-way through its reply.

    ``GET /<name>`` answers ``size`` bytes of a fixed pattern but hangs up after ``cut``:
    with ``chunked`` false it announces ``Content-Length: size`` (a download cut short), with
    it true it sends a chunked reply that never gets its last chunk. ``url(name)`` is the
    address; ``body`` is what a complete reply would have held.
    """

    def __init__(self, size: int, cut: int, chunked: bool = False) -> None:
        import http.server
        import threading

        self.body = bytes(i * 7 % 251 for i in range(size))
        self.cut = cut
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.send_response(200)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                sent = owner.body[: owner.cut]
                if chunked:
                    for start in range(0, len(sent), 4096):
                        piece = sent[start:start + 4096]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                else:
                    self.wfile.write(sent)
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{name}"

    def __enter__(self) -> CuttingHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
