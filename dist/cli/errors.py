"""The one place where errors become exit codes: 0 success, 1 a refused operation, 2 a usage error."""

from __future__ import annotations

from collections.abc import Sequence

from cyclopts import App, CycloptsError
from sqlalchemy.exc import OperationalError

from dist.cli.context import stderr
from dist.domain.errors import DistError, ErrorKind

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

EXIT_CODES: dict[ErrorKind, int] = {kind: EXIT_REFUSED for kind in ErrorKind}


def report(code: str, message: str) -> None:
    stderr.print(f"error: {code}: {message}", markup=False)


def run_guarded(app: App, tokens: Sequence[str]) -> int:
    try:
        result = app(list(tokens), exit_on_error=False, print_error=True)
    except CycloptsError:
        return EXIT_USAGE
    except DistError as error:
        report(error.code, error.message)
        return EXIT_CODES[error.kind]
    except OperationalError as error:
        report("store.unavailable", f"the database did not answer: {error.orig}")
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else EXIT_OK
