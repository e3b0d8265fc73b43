"""Error types whose message is meant to be shown to the user as one line."""


class KenningTasksError(Exception):
    """Base class: the message is a complete, user-facing one-line explanation."""


class ScenarioError(KenningTasksError):
    """A scenario file is invalid (unknown key, bad type, impossible chain, ...)."""


class StageError(KenningTasksError):
    """A stage failed for a reason the user can act on (bad data, missing tool, limits)."""


class UnsupportedModelError(StageError):
    """A model uses an operator or data type a backend cannot handle."""


class ConfigError(KenningTasksError):
    """The project config (``kenning-tasks.toml``) or a setting in the environment is invalid."""
