"""A TCP proxy that damages the traffic between the host and QEMU's UART, on purpose.

Each chunk of bytes read from one side is, with the given probabilities, bit-flipped, dropped,
duplicated or held back for ``stall_s`` before it is forwarded (and everything behind it waits:
the byte order on each direction is kept, as on a real wire). Seeded, so a failing case can
be replayed as far as the chunking (set by the OS) allows.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Faults:
    flip: float = 0.0       # probability per chunk: flip one random bit
    drop: float = 0.0       # drop the chunk
    duplicate: float = 0.0  # send the chunk twice
    stall: float = 0.0      # hold the chunk (and what follows) for stall_s
    stall_s: float = 0.4

    def label(self) -> str:
        parts = [f"{name} {getattr(self, name):g}" for name in ("flip", "drop", "duplicate",
                                                                 "stall") if getattr(self, name)]
        if self.stall:
            parts[-1] += f" ({self.stall_s:g} s)"
        return ", ".join(parts) or "clean"


@dataclass
class Tally:
    chunks: int = 0
    flipped: int = 0
    dropped: int = 0
    duplicated: int = 0
    stalled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


class FaultyProxy:
    """Listen on a free local port; forward one client to ``upstream``, damaging the bytes."""

    def __init__(self, upstream_port: int, faults: Faults, seed: int = 0) -> None:
        self.upstream_port = upstream_port
        self.faults = faults
        self.random = random.Random(seed)
        self.tally = Tally()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(1)
        self.port = self._server.getsockname()[1]
        self._sockets: list[socket.socket] = [self._server]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._serve, daemon=True)]
        self._threads[0].start()

    def _serve(self) -> None:
        try:
            client, _ = self._server.accept()
        except OSError:
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets.append(sock)
        for source, sink in ((client, upstream), (upstream, client)):
            thread = threading.Thread(target=self._pump, args=(source, sink), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _chance(self, probability: float) -> bool:
        with self.tally.lock:
            return probability > 0 and self.random.random() < probability

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        faults = self.faults
        with contextlib.suppress(OSError):
            while not self._stop.is_set():
                data = bytearray(source.recv(4096))
                if not data:
                    break
                self.tally.add("chunks")
                if self._chance(faults.stall):
                    self.tally.add("stalled")
                    time.sleep(faults.stall_s)
                if self._chance(faults.drop):
                    self.tally.add("dropped")
                    continue
                if self._chance(faults.flip):
                    self.tally.add("flipped")
                    with self.tally.lock:
                        bit = self.random.randrange(len(data) * 8)
                    data[bit // 8] ^= 1 << (bit % 8)
                sink.sendall(data)
                if self._chance(faults.duplicate):
                    self.tally.add("duplicated")
                    sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._stop.set()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> FaultyProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
