"""doit entry point: ``doit scenario=NAME report`` (see README.md).

Thin on purpose: it checks doit's command-line variables, builds the graph of the selected
scenarios and generates one ``task_<group>`` per task group of ``stages/catalog.py``. No
machine-learning framework is imported here.
"""

import sys

from doit import get_var

from kenning_tasks.doit_vars import check_variables
from kenning_tasks.errors import KenningTasksError, format_error
from kenning_tasks.graph import DOIT_CONFIG, Graph
from kenning_tasks.stages.catalog import group_docs

try:
    check_variables()
    GRAPH = Graph(get_var("scenario"))
except KenningTasksError as error:
    sys.exit(format_error(error))

__all__ = ["DOIT_CONFIG"]


def _task_creator(group: str, doc: str):
    def create():
        yield from GRAPH.tasks(group)

    create.__name__ = f"task_{group}"
    create.__doc__ = doc
    return create


for _group, _doc in group_docs().items():
    globals()[f"task_{_group}"] = _task_creator(_group, _doc)
