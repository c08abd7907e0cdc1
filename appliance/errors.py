"""One error hierarchy: user-facing commands turn these into one clear line and an exit code."""


class ApplianceError(Exception):
    """Base of every error the appliance reports to a person instead of a traceback."""

    exit_code = 1


class ConfigError(ApplianceError):
    """The config file or a command-line argument is invalid.

    `problems` holds every problem found, each already formatted as
    `FILE: section.field: what is wrong (expected ...)`, so one run reports them all.
    """

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SourceError(ApplianceError):
    """A frame source could not be opened or failed while reading."""

    exit_code = 3


class OutputError(ApplianceError):
    """An output (window, screen, file) could not be opened or written."""

    exit_code = 4


class ModelError(ApplianceError):
    """A model file is missing, corrupt, or does not match the manifest; or no runtime loads it."""

    exit_code = 5


class PaintingError(ApplianceError):
    """No painting to save (nothing painted, no canvas kept), or it cannot be read or written."""

    exit_code = 6
