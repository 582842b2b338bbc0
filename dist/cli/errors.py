"""The one place where errors become exit codes: 0 success, 1 a refused operation, 2 a usage error."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cyclopts import App, CycloptsError

from dist.cli.context import stderr
from dist.domain.errors import DistError, ErrorKind

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

EXIT_CODES: dict[ErrorKind, int] = {kind: EXIT_REFUSED for kind in ErrorKind}


class UsageError(Exception):
    """A command line that cannot be run as given: conflicting or missing options, a file that is not there.

    Raised by the commands before any service runs, so nothing has changed when it is reported.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def report(code: str, message: str) -> None:
    stderr.print(f"error: {code}: {message}", markup=False)


def _usage_message(error: CycloptsError) -> str:
    # CycloptsError renders a multi-line panel-ready text; one line keeps the `error: code: message` format.
    text = " ".join(str(error).split()) or type(error).__name__
    command = " ".join(["dist", *(error.command_chain or ()), "--help"])
    return f"{text} (see `{command}`)"


def run_meta(meta: App, tokens: Sequence[str]) -> int:
    """Parse the global options, then run the command (`run_guarded`); a bad global option is a usage error."""
    try:
        result = meta(list(tokens), exit_on_error=False, print_error=False)
    except CycloptsError as error:
        report("usage.invalid", _usage_message(error))
        return EXIT_USAGE
    return result if isinstance(result, int) else EXIT_OK


def run_guarded(app: App, tokens: Sequence[str]) -> int:
    try:
        result = app(list(tokens), exit_on_error=False, print_error=False)
    except CycloptsError as error:
        report("usage.invalid", _usage_message(error))
        return EXIT_USAGE
    except UsageError as error:
        report(error.code, error.message)
        return EXIT_USAGE
    except DistError as error:
        report(error.code, error.message)
        return EXIT_CODES[error.kind]
    except Exception as error:
        # SQLAlchemy is loaded only for a local store (never in remote mode), so its error is matched by name.
        exc = sys.modules.get("sqlalchemy.exc")
        if exc is None or not isinstance(error, exc.OperationalError):
            raise
        report("store.unavailable", f"the database did not answer: {error.orig}")
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else EXIT_OK
