"""Names that become folders: scenario names (a file's stem) and grid variant ids.

A scenario ``...yml`` has the stem ``..``: built naively, its stages would write into the
project's own folders. So every name used as a path component must be *safe*:

- 1 to 100 characters: ASCII letters, digits and ``_ - . +``;
- it starts with a letter or a digit (so never ``.``, ``..`` or a hidden name, never an option
  such as ``-x``);
- hence no path separator, no space and no control character.

A grid pipeline's name is ``<scenario>/<variant>``: each part is checked on its own.
"""

from __future__ import annotations

import re
from pathlib import Path

from kenning_tasks.errors import ScenarioError

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}")
RULE = ("1-100 ASCII letters, digits and _ - . +, starting with a letter or a digit "
        "(no path separators, spaces or control characters)")


def is_safe(name: str) -> bool:
    return bool(SAFE_NAME.fullmatch(name))


def check_name(name: str, what: str, where: str) -> str:
    """``name`` unchanged, or one line naming ``where`` (the file), ``what`` and the rule."""
    if not is_safe(name):
        raise ScenarioError(f"{where}: {what} {name!r} cannot be a folder name; allowed: {RULE}")
    return name


def check_scenario_file(path: Path) -> str:
    """The scenario name of ``path`` (its stem), checked."""
    return check_name(path.stem, "scenario name (the file name without its extension)",
                      str(path))

