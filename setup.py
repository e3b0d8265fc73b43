"""Packaging hook: a built wheel carries what the pipeline needs besides the Python package.

``firmware/`` (C sources, linker scripts), ``scenarios/`` (the examples), ``platforms.yml``
(board definitions) and ``dodo.py`` are top-level folders of the checkout; ``build_py`` copies
them into ``kenning_tasks/resources/``, where ``kenning_tasks/layout.py`` finds them in an
installed package. An editable install reads them from the checkout instead.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = ("firmware", "scenarios", "platforms.yml", "dodo.py")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "kenning_tasks" / "resources"
        for name in RESOURCES:
            source, destination = here / name, target / name
            if source.is_dir():
                shutil.copytree(source, destination, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)


setup(cmdclass={"build_py": BuildWithResources})
