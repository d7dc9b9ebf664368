"""Exit codes, the CLI's error type, and the click group that turns every failure into one line on stderr."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

import click

from janitoo_protocol import ConnectError, JanitooError, ProtocolError, RequestRefused, RequestTimeout

# Documented in docs/cli.md; scripts rely on them.
EXIT_OK = 0
EXIT_FAILED = 1  # nothing answered, nothing found
EXIT_USAGE = 2  # bad option, bad hadd, bad settings (click's own code for usage errors)
EXIT_BROKER = 3  # the broker cannot be reached or refused us
EXIT_TIMEOUT = 4  # a node never answered a GET or SET
EXIT_REFUSED = 5  # a node refused a GET or SET, with its reason
EXIT_TWO_PRIMARIES = 6  # `jnt network`: two primaries beating at once
EXIT_INTERNAL = 70  # a bug in jnt (EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # Ctrl+C


class CliError(click.ClickException):
    """A failure to report as one line and an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        # click declares exit_code on the class; each CliError carries its own.
        setattr(self, "exit_code", exit_code)  # noqa: B010


@contextlib.contextmanager
def protocol_errors() -> Iterator[None]:
    """Translate janitoo_protocol's exceptions into CliErrors with their exit codes."""
    try:
        yield
    except ConnectError as exc:
        raise CliError(str(exc), EXIT_BROKER) from None
    except RequestRefused as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    except RequestTimeout as exc:
        raise CliError(str(exc), EXIT_TIMEOUT) from None
    except ProtocolError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except JanitooError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None


# click >= 8.2 raises this (a UsageError holding the whole help) for a group called without a command.
_NO_ARGS_IS_HELP: type[click.ClickException] = getattr(
    click.exceptions, "NoArgsIsHelpError", type("_Never", (click.ClickException,), {})
)

# Set by --verbose (janitoo_cli.logs): internal errors then show their traceback.
VERBOSE = False


class OneLineErrors:
    """Mixin for click groups: every error is one `prog: error: ...` line on stderr and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        base: Any = super()
        if not standalone_mode:
            return base.main(args, prog_name, complete_var, standalone_mode=False, **extra)
        global VERBOSE
        VERBOSE = False
        name = prog_name or getattr(self, "name", None) or "jnt"
        try:
            rv = base.main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            # click already moved to a fresh line after the ^C.
            _exit(EXIT_INTERRUPTED)
        except _NO_ARGS_IS_HELP as exc:
            exc.show()  # a group called bare: its help, as click shows it
            _exit(exc.exit_code)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(name, f"{exc.format_message()}{hint}", exc.exit_code)
        except click.ClickException as exc:
            _fail(name, exc.format_message(), exc.exit_code)
        except BrokenPipeError:
            _quiet_broken_pipe()
            _exit(EXIT_OK)
        except Exception as exc:  # a bug must still be one line, not a traceback
            if VERBOSE:
                import traceback

                traceback.print_exc()
            _fail(name, f"internal error: {type(exc).__name__}: {exc} (run with --verbose for details)",
                  EXIT_INTERNAL)  # fmt: skip
        _exit(rv if isinstance(rv, int) else EXIT_OK)


def _fail(name: str, message: str, code: int) -> NoReturn:
    line = " ".join(message.split())  # never more than one line, whatever the message holds
    click.echo(f"{name}: error: {line}", err=True)
    _exit(code)


def _exit(code: int) -> NoReturn:
    sys.exit(code)


def _quiet_broken_pipe() -> None:
    # The reader went away (`jnt spy | head`): point stdout at devnull so the final flush stays quiet.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
