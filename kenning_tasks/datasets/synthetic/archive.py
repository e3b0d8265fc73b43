"""Deterministic .tar.gz and .zip archives of a folder (for serving synthetic data sets)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

from kenning_tasks import artifacts


def make_tar_gz(folder: Path, target: Path, prefix: str = "") -> Path:
    """Pack ``folder``'s files under ``prefix`` (sorted, fixed times): same files → same bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            data = path.read_bytes()
            info = tarfile.TarInfo(str(Path(prefix) / path.relative_to(folder)))
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as gz:
        gz.write(buffer.getvalue())
    return artifacts.write_bytes(target, packed.getvalue())


def make_zip(folder: Path, target: Path, prefix: str = "") -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(Path(prefix) / path.relative_to(folder)),
                                   date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zipped.writestr(info, path.read_bytes())
    return artifacts.write_bytes(target, buffer.getvalue())
