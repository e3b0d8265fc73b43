"""When a float32 output from the target agrees with TFLite Micro's host interpreter.

The int8 path is compared bit for bit. The float32 kernels follow TFLite's float reference
kernels loop for loop (same summation order, no FMA contraction: the firmware is compiled in
ISO C mode, where GCC's default is -ffp-contract=off), but float32 results still need not be
bit-identical: SOFTMAX calls the C library's expf, which is newlib's on the target and glibc's
in the host interpreter (each within an ulp or so of the exact value, not always the same
float), and a build with contraction enabled (-ffp-contract=fast, GCC's default in GNU C modes
such as -std=gnu11) fuses multiply-adds into VFMA, rounding once instead of twice per MAC.
An output agrees when ``|target - host| <= ATOL + RTOL * |host|``: a few hundred ulps of
relative slack, far below any difference that changes a decision, far above what the error
sources above give.
"""

from __future__ import annotations

from typing import Any

ATOL = 1e-5
RTOL = 1e-4
RULE = f"|target − host| ≤ {ATOL:g} + {RTOL:g}·|host| per output"


def within_tolerance(target: Any, host: Any) -> Any:
    """One bool per sample (row): every output of the sample within the tolerance."""
    import numpy as np

    target = np.asarray(target, np.float64).reshape(len(host), -1)
    host = np.asarray(host, np.float64).reshape(len(host), -1)
    return np.all(np.abs(target - host) <= ATOL + RTOL * np.abs(host), axis=1)


def max_abs_error(target: Any, host: Any) -> float:
    import numpy as np

    diff = np.abs(np.asarray(target, np.float64) - np.asarray(host, np.float64))
    return float(diff.max()) if diff.size else 0.0
