"""Where a Kenning data set's files come from: ``dataset_root`` in place, or its archives.

Kenning downloads a data set's archives into ``dataset_root``. Here ``dataset_root`` is read in
place when it already holds the data set (its files are inputs of the dataset stage, hashed by
doit); otherwise, with ``download_dataset``, each archive is fetched through the resource cache
(``resources.fetch_archive``: sha256-checked when ``<name>_sha256`` is given, one warning line
when not) and unpacked there, and the data set is read from the cache. ``dataset_root`` is
never written: only a stage's own outputs are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from kenning_tasks.datasets.base import KenningDataset
from kenning_tasks.errors import ScenarioError
from kenning_tasks.params import Param


def resource_parameters(resources: dict[str, str]) -> tuple[Param, ...]:
    """``<name>_url`` (default: Kenning's address) and ``<name>_sha256`` per archive."""
    params: list[Param] = []
    for name, url in resources.items():
        params.append(Param(f"{name}_url", str, url, f"kenning-tasks: where the {name} archive "
                            "is downloaded from when dataset_root does not hold the data set "
                            "(default: Kenning's)"))
        params.append(Param(f"{name}_sha256", str, None, f"kenning-tasks: expected sha256 of "
                            f"the {name} archive (without it the download is not verified)",
                            nullable=True, pattern="[0-9a-fA-F]{64}"))
    return tuple(params)


class ArchiveDataset(KenningDataset):
    """A Kenning data set read from ``dataset_root`` or unpacked from downloaded archives."""

    RESOURCES: ClassVar[dict[str, str]] = {}
    # Files whose presence says dataset_root holds the data set (relative to it).
    MARKERS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def check_sources(cls, parameters: dict[str, Any], base_dir: Path, where: str) -> None:
        from kenning_tasks.datasets.resources import local_path

        root = local_path(parameters["dataset_root"], base_dir)
        if cls._holds_data(root, parameters):
            return
        if not parameters["download_dataset"]:
            raise ScenarioError(f"{where}.dataset_root: {root} does not hold the "
                                f"{cls.__name__} files ({', '.join(cls.markers(parameters))}) "
                                "and download_dataset is false")

    @classmethod
    def markers(cls, parameters: dict[str, Any]) -> tuple[str, ...]:
        return cls.MARKERS

    @classmethod
    def _holds_data(cls, root: Path, parameters: dict[str, Any]) -> bool:
        return all((root / marker).exists() for marker in cls.markers(parameters))

    def data_root(self) -> Path:
        """The folder to read: dataset_root when it holds the data, else the unpacked archives."""
        from kenning_tasks.datasets.resources import fetch_archive

        root = self.root()
        p = self.parameters
        if self._holds_data(root, p) and not p["force_download_dataset"]:
            return root
        folders = [fetch_archive(p[f"{name}_url"], p[f"{name}_sha256"],
                                 f"dataset.parameters.{name}_url", self.base_dir, self.log,
                                 force=p["force_download_dataset"])
                   for name in self.resources_needed()]
        return self.merge_roots(folders)

    def resources_needed(self) -> list[str]:
        return list(self.RESOURCES)

    def merge_roots(self, folders: list[Path]) -> Path:
        """The folder laid out as dataset_root would be, from the unpacked archives.

        Kenning unpacks every archive into dataset_root; several archives are joined here by
        a folder of symbolic links to their top-level entries, made once in the cache.
        """
        import hashlib
        import os
        import tempfile

        from kenning_tasks.datasets.resources import resource_cache_dir

        if len(folders) == 1:
            for candidate in (folders[0], _single_child(folders[0])):
                if self._holds_data(candidate, self.parameters):
                    return candidate
            raise self._missing(folders)
        key = hashlib.sha256("\n".join(str(f) for f in folders).encode()).hexdigest()[:32]
        merged = resource_cache_dir() / f"merged-{key}"
        if not merged.is_dir():
            merged.parent.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".merged-", dir=merged.parent))
            for folder in folders:
                for child in _single_child_entries(folder):
                    (work / child.name).symlink_to(child)
            os.replace(work, merged)
        if not self._holds_data(merged, self.parameters):
            raise self._missing(folders)
        return merged

    def _missing(self, folders: list[Path]) -> Exception:
        from kenning_tasks.errors import StageError

        return StageError(f"dataset: the downloaded archives do not hold "
                          f"{', '.join(self.markers(self.parameters))} "
                          f"(unpacked in {', '.join(str(f) for f in folders)})")

    def input_files(self) -> list[Path]:
        root = self.root()
        if not self._holds_data(root, self.parameters):
            return []  # downloaded: pinned by the archives' sha256 in the parameters
        return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def _single_child_entries(folder: Path) -> list[Path]:
    return [e for e in folder.iterdir() if not e.name.startswith((".", "._"))]


def _single_child(folder: Path) -> Path:
    """An archive often wraps everything in one top folder; look inside it."""
    entries = [e for e in folder.iterdir() if not e.name.startswith((".", "._"))]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else folder
