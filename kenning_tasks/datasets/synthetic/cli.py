"""``python -m kenning_tasks synthetic-data KIND FOLDER``: write a synthetic data set."""

from __future__ import annotations

import argparse
from pathlib import Path

from kenning_tasks.datasets.synthetic import GENERATORS, generator


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "synthetic-data", help="write a small synthetic data set in Kenning's layout")
    parser.add_argument("kind", choices=sorted(GENERATORS))
    parser.add_argument("folder", type=Path, help="where to write it (anomaly: a .csv file or "
                        "a folder that gets data.csv)")
    parser.add_argument("--archive", action="store_true",
                        help="also pack the folder as <folder>.tar.gz (as served for download)")


def run(options: argparse.Namespace) -> int:
    written = generator(options.kind)(options.folder)
    print(written)
    if options.archive and Path(written).is_dir():
        from kenning_tasks.datasets.synthetic.archive import make_tar_gz

        print(make_tar_gz(written, Path(str(written).rstrip("/") + ".tar.gz")))
    return 0
