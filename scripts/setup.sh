#!/usr/bin/env bash
# Set up everything kenning-tasks needs on Debian 12 / Python 3.11, idempotently:
# apt packages (Cortex-M toolchain, QEMU, venv support), the .venv at the repo root and the
# Python packages from pyproject.toml. A second run only checks and returns in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# openssh-server: sshd for the SFTP remote-cache tests, which start their own on 127.0.0.1 (on a
# systemd host the package also enables its ssh service; the tests do not use it)
APT_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm python3-venv gcc
              openssh-server gdb-multiarch chromium)  # chromium: the report's browser test

log() { echo "[setup] $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $* (run as root or install sudo)"; return 1; fi
}

missing_apt=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing_apt+=("$package")
done
if [ "${#missing_apt[@]}" -gt 0 ]; then
    log "installing apt packages: ${missing_apt[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_apt[@]}" >/dev/null
fi

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            PYTHON="$candidate"; break
        fi
    done
fi
if [ -z "$PYTHON" ]; then
    log "Python 3.11 not found (set PYTHON=/path/to/python3.11)"; exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi

# Reinstall only when the dependency list or the pinned versions changed since the last
# successful install. constraints.txt pins every package (stage signatures name tool versions,
# so runners that resolve the same versions share run-cache hits).
STAMP="$VENV/.kenning-tasks-installed"
CONSTRAINTS="$ROOT/constraints.txt"
WANTED="$(cat "$ROOT/pyproject.toml" "$CONSTRAINTS" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANTED" ]; then
    log "installing Python packages into $VENV (first time: a few minutes, ~3.6 GB)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -c "$CONSTRAINTS" -e "$ROOT[compilers,dev]"
    # Packages whose declared dependencies conflict with the venv (see pyproject.toml).
    mapfile -t NO_DEPS < <("$VENV/bin/python" -c 'import tomllib, sys
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["tool"]["kenning_tasks"]["no_deps_requirements"]))' "$ROOT/pyproject.toml")
    "$VENV/bin/python" -m pip install --quiet --no-deps -c "$CONSTRAINTS" "${NO_DEPS[@]}"
    echo "$WANTED" > "$STAMP"
fi
log "ready: $("$VENV/bin/python" --version), $(arm-none-eabi-gcc --version | head -1), $(qemu-system-arm --version | head -1)"
