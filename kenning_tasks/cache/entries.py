"""One cache entry: the manifest naming the objects that make up a stage's result.

An entry is stored as ``runs/<stage>/<key>.json``; each output's bytes as an object under its
sha256, ``objects/<2 hex>/<sha256>``. The manifest records, per output name, the object's
sha256 and size, and it carries its own checksum over the stage, the key and the outputs. So a
manifest that was truncated, edited (an output pointed at another valid object) or copied from
another entry is refused, and a restore checks each object's size and hash before using it.
(Someone who may write the cache and recomputes the checksum is not stopped: a shared cache
trusts its writers, as DVC's and Bazel's do.)
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

FORMAT = 2
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class DamagedEntry(Exception):
    """A manifest that cannot be trusted; the message says why (one short phrase)."""


class LegacyEntry(Exception):
    """A manifest written by an older version (a plain ``{name: sha256}``): a quiet miss."""


@dataclass(frozen=True)
class Output:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    stage: str
    key: str
    outputs: dict[str, Output]  # output name (relative to the pipeline's build folder) → object

    def to_bytes(self) -> bytes:
        body = self._body()
        body["check"] = _checksum(body)
        return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()

    def _body(self) -> dict[str, Any]:
        return {"format": FORMAT, "stage": self.stage, "key": self.key,
                "outputs": {name: {"sha256": out.sha256, "size": out.size}
                            for name, out in sorted(self.outputs.items())}}

    def total_size(self) -> int:
        return sum(out.size for out in self.outputs.values())


def _checksum(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
                          ).hexdigest()


def entry_path(stage: str, key: str) -> str:
    """The entry's path relative to a cache root (local or remote)."""
    return f"runs/{stage}/{key}.json"


def object_path(digest: str) -> str:
    """An object's path relative to a cache root."""
    return f"objects/{digest[:2]}/{digest}"


def parse(data: bytes, stage: str, key: str, names: list[str] | None = None) -> Manifest:
    """The manifest in ``data`` if it is intact and is the entry of ``stage``/``key``.

    ``names``, when given, are the outputs the stage declares: any other set is refused.
    Raises ``DamagedEntry`` (or ``LegacyEntry``) otherwise.
    """
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DamagedEntry("unreadable (truncated or not JSON)") from None
    if not isinstance(body, dict):
        raise DamagedEntry("not a manifest")
    if "format" not in body and body and all(isinstance(v, str) for v in body.values()):
        raise LegacyEntry()
    if body.get("format") != FORMAT:
        raise DamagedEntry(f"unknown format {body.get('format')!r}")
    check = body.pop("check", None)
    if check != _checksum(body):
        raise DamagedEntry("its checksum does not match its content (edited or damaged)")
    if body.get("stage") != stage or body.get("key") != key:
        raise DamagedEntry(f"it is the entry of {body.get('stage')}/{str(body.get('key'))[:12]}")
    outputs = body.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        raise DamagedEntry("it names no outputs")
    parsed = {}
    for name, out in outputs.items():
        if not (isinstance(out, dict) and isinstance(out.get("sha256"), str)
                and _HEX64.match(out["sha256"]) and isinstance(out.get("size"), int)
                and not isinstance(out["size"], bool) and out["size"] >= 0):
            raise DamagedEntry(f"output {name} has no valid sha256 and size")
        parsed[name] = Output(out["sha256"], out["size"])
    if names is not None and set(parsed) != set(names):
        raise DamagedEntry("its outputs are not the ones the stage writes ("
                           + ", ".join(sorted(set(parsed) ^ set(names))) + ")")
    return Manifest(stage, key, parsed)
