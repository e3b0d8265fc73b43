"""Error types whose message is meant to be shown to the user, one line per problem."""

from __future__ import annotations


class KenningTasksError(Exception):
    """Base class: the message is a complete, user-facing explanation (one line per problem)."""


class ScenarioError(KenningTasksError):
    """A scenario file is invalid (unknown key, bad type, impossible chain, ...).

    It may carry several problems, one line each, so a file's errors are all reported at once.
    ``compatibility`` marks problems that only say the chosen blocks do not fit together (a
    grid search skips such a combination instead of failing).
    """

    def __init__(self, *problems: str, compatibility: bool = False) -> None:
        lines = tuple(line for problem in problems for line in str(problem).splitlines())
        super().__init__("\n".join(lines))
        self.problems = lines
        self.compatibility = compatibility


class StageError(KenningTasksError):
    """A stage failed for a reason the user can act on (bad data, missing tool, limits)."""


class UnsupportedModelError(StageError):
    """A model uses an operator or data type a backend cannot handle."""


class ConfigError(KenningTasksError):
    """The project config (``kenning-tasks.toml``) or a setting in the environment is invalid."""


def format_error(error: BaseException) -> str:
    """``error: ...`` once per line of the error's message, for stderr."""
    lines = str(error).splitlines() or [type(error).__name__]
    return "\n".join(f"error: {line}" for line in lines)
