"""The kit's expected failures: each carries the exit code and a message for stderr."""

from __future__ import annotations

# Exit codes (documented in every subcommand's --help).
OK = 0
REFUSED = 1  # the service refused, could not be reached, or the work failed
USAGE = 2  # the command line or a local input file is wrong
INTERRUPTED = 130  # Ctrl-C / SIGTERM (128 + SIGINT, as shells report it)

EXIT_CODES_HELP = (
    "exit status: 0 ok; 1 refused by the service (its message is printed), the service "
    "unreachable, or the work failed; 2 wrong command line or unusable input file; "
    "130 interrupted"
)


class KitError(Exception):
    """An expected failure: printed as one line on stderr, no traceback."""

    exit_code = USAGE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class ServiceError(KitError):
    """The registry refused the request or could not be reached."""

    exit_code = REFUSED
