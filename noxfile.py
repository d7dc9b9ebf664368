"""nox sessions: tests, lint, typecheck, contracts, coverage, bench."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "contracts"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run(
        "mypy",
        "--strict",
        "janitoo_protocol",
        "janitoo_node",
        "janitoo_cli",
        "janitoo_ha",
        "janitoo_web",
        "examples",
    )


@nox.session
def contracts(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("lint-imports")


@nox.session
def coverage(session: nox.Session) -> None:
    """The tests under coverage, subprocesses included (node processes, examples, CLI runs)."""
    session.install("-e", ".[dev]")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")


@nox.session
def bench(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
