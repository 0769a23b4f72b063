"""Shared CLI plumbing: turning landcheck errors into messages and exit codes."""

from __future__ import annotations

import contextlib
import sys
import warnings

import click

from landcheck.errors import LandcheckError, LandcheckWarning

#: Exit codes: 0 done, 1 runtime error, 2 usage error (click), 3 illegal patches found (opt-in).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ILLEGAL = 0, 1, 2, 3


@contextlib.contextmanager
def cli_errors(ctx: click.Context):
    """Report landcheck errors as one clear message and exit 1; tracebacks only with -vv."""
    verbose = (ctx.obj or {}).get("verbose", 0)
    quiet = (ctx.obj or {}).get("quiet", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if quiet else "default", LandcheckWarning)
        warnings.showwarning = _show_warning
        try:
            yield
        except LandcheckError as exc:
            if verbose >= 2:
                raise
            click.echo(f"landcheck: error: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except (OSError, ValueError) as exc:
            if verbose >= 2:
                raise
            click.echo(f"landcheck: error: {type(exc).__name__}: {exc}", err=True)
            ctx.exit(EXIT_ERROR)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"landcheck: warning: {message}", file=sys.stderr)
