"""Errors a user can cause, each mapped to the exit code of the contract (docs/architecture.md).

The core raises these; only the CLI turns them into a message and an exit code,
so a test can call the core and assert on the exception type.
"""


class TrackerError(Exception):
    """Something the user can fix; the message is one line."""

    exit_code = 2


class UsageError(TrackerError):
    """Bad input: an unknown id, an invalid value, an unreadable file."""

    exit_code = 2


class EnvironmentProblem(TrackerError):
    """Something outside the command line must be fixed (a locked or corrupt database)."""

    exit_code = 3


class ConfigError(UsageError):
    """The configuration file or a configuration value is invalid."""


class ConfigUnreadable(ConfigError):
    """The config file is there but is not UTF-8 TOML (torn by a crash, damaged by hand)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # what is wrong and where, without the path


class DatabaseLocationError(UsageError):
    """The database path or URL given cannot be used."""


class DatabaseUnavailable(EnvironmentProblem):
    """The database cannot be opened, is locked, corrupt or from a newer tracker."""


class CurriculumError(UsageError):
    """The lesson data under lessons/ is invalid."""


class LessonNotFound(UsageError):
    """No lesson with that id."""


class ConceptNotFound(UsageError):
    """No concept with that id."""


class CardNotFound(UsageError):
    """No review card with that id for this learner."""


class InvalidRating(UsageError):
    """A rating that is not one of again, hard, good, easy (1-4)."""


class CardNotRatable(UsageError):
    """A card the learner cannot rate by hand (a code card is rated by a review submission)."""


class LessonLocked(UsageError):
    """The lesson's prerequisites are not met yet (the answer is "not yet", exit 1)."""

    exit_code = 1


class NotEnoughReviews(TrackerError):
    """Too few reviews to fit FSRS parameters; exit 1: the command ran, the answer is no."""

    exit_code = 1
