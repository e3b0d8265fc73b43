"""What makes a stage's result valid: its signature and the integrity of its outputs.

A stage's signature is its resolved parameters, a fingerprint of the source files it can
reach (``fingerprint.py``) and the versions of the tools it uses (``tool_versions.py``).
Input files are tracked by the file_dep checker of ``change_detection`` (content hashes, so
early cutoff); outputs are checked against the hashes the stage recorded when it wrote them,
because doit itself only checks that targets exist.
"""

from __future__ import annotations

import json
from typing import Any

from kenning_tasks import change_detection


def normalise(signature: dict[str, Any]) -> dict[str, Any]:
    """The signature as doit stores it (JSON types only), so saved and fresh ones compare."""
    return json.loads(json.dumps(signature, sort_keys=True, default=str))


class SignatureCheck:
    """doit ``uptodate`` entry: up to date only if the saved signature equals this one."""

    def __init__(self, signature: dict[str, Any], normalised: bool = False) -> None:
        self.signature = signature if normalised else normalise(signature)

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        task.value_savers.append(lambda: {"signature": self.signature})
        return values.get("signature") == self.signature


class OutputsIntact:
    """doit ``uptodate`` entry: every output still has the bytes the stage wrote.

    The (size, mtime_ns, ctime_ns, inode) stamp is compared first; a file is hashed only when
    it differs, so a no-op rerun costs a ``stat`` per output (``change_detection``).
    """

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        recorded = values.get("outputs")
        if not recorded:
            return False
        return not changed_outputs(recorded)


# Kept here for callers; the stamp logic lives in change_detection (one source of truth).
record_outputs = change_detection.record_outputs
changed_outputs = change_detection.changed_outputs
