"""doit entry point: ``doit scenario=NAME report`` (see README.md).

Thin on purpose: it checks doit's command-line variables, loads the graph of the selected
scenarios (``graph_cache.load_graph``: the cached one while nothing it was built from changed)
and makes one ``task_<group>`` per task group of ``stages/catalog.py``. No machine-learning
framework is imported here.
"""

import sys
from pathlib import Path

from doit import get_var

from kenning_tasks import doit_state, expected_failures
from kenning_tasks.doit_config import DOIT_CONFIG
from kenning_tasks.doit_vars import check_variables
from kenning_tasks.errors import KenningTasksError, format_error
from kenning_tasks.graph_cache import load_graph

expected_failures.install()  # Ctrl-C: one line, not a traceback
try:
    check_variables()
    GRAPH = load_graph(get_var("scenario"))
    doit_state.prepare(Path(DOIT_CONFIG["dep_file"]))  # damaged: set aside; locked: wait
    doit_state.guard_writes()  # a full disk or a lock at the end of a run: one line
except KenningTasksError as error:
    sys.exit(format_error(error))

__all__ = ["DOIT_CONFIG"]


def _task_creator(group: str, doc: str):
    def create():
        yield from GRAPH.tasks(group)

    create.__name__ = f"task_{group}"
    create.__doc__ = doc
    return create


for _group, _doc in GRAPH.groups.items():
    globals()[f"task_{_group}"] = _task_creator(_group, _doc)
