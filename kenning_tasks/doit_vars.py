"""doit's command-line variables (``doit scenario=a,b report``): the known ones, and one line
for any other, so a typo such as ``senario=x`` never silently runs the default scenario."""

from __future__ import annotations

import difflib
import sys

from kenning_tasks.errors import KenningTasksError

# name -> what it selects (the README lists them too).
VARIABLES = {
    "scenario": "the scenarios to build: a name in scenarios/, a path, a,b or all",
}


def command_line_variables(argv: list[str] | None = None) -> dict[str, str]:
    """The ``name=value`` arguments, by doit's own rule (not an option, contains ``=``)."""
    found = {}
    for arg in (sys.argv[1:] if argv is None else argv):
        if arg and arg[0] != "-" and "=" in arg:
            name, _, value = arg.partition("=")
            found[name] = value
    return found


def check_variables(argv: list[str] | None = None) -> None:
    """Refuse an unknown variable in one line naming the closest known one.

    Without ``argv``: the ``name=value`` words of this process's command line that doit
    itself took as variables (``doit.get_var`` knows them), so a process that runs doit
    in-process with a command line of its own is judged by what doit was given.
    """
    from doit import get_var

    for name in command_line_variables(argv):
        if argv is None and get_var(name) is None:
            continue
        if name not in VARIABLES:
            close = difflib.get_close_matches(name, list(VARIABLES), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KenningTasksError(f"unknown variable {name!r} on the command line; known: "
                                    + ", ".join(VARIABLES) + hint)
