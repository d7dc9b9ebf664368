"""jnt's logging: warnings as one `jnt: warning: ...` line, or everything with --verbose."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from . import errors


class _OneLineFormatter(logging.Formatter):
    """Log records as `jnt: warning: message`, never with a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return f"jnt: {record.levelname.lower()}: {record.getMessage()}"


def setup_logging(verbose: bool) -> Callable[[], None]:
    """Warnings as one line on stderr; with --verbose, everything with timestamps and tracebacks.

    Leaves logging alone when the host already configured it (tests, an embedding program) unless
    --verbose asks. Returns the function that undoes it.
    """
    errors.VERBOSE = verbose
    root = logging.getLogger()
    if not verbose and root.handlers:
        return _nothing
    handler = logging.StreamHandler(sys.stderr)
    old_level = root.level
    if verbose:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s [%(name)s] %(message)s"))
        root.setLevel(logging.DEBUG)
    else:
        handler.setFormatter(_OneLineFormatter())
        handler.setLevel(logging.WARNING)
    root.addHandler(handler)

    def teardown() -> None:
        root.removeHandler(handler)
        root.setLevel(old_level)

    return teardown


def _nothing() -> None:
    pass
