"""The command line: parse, call the API, render; no logic of its own.

One module per command group (:mod:`~whichmodel.cli.compare`, :mod:`~whichmodel.cli.spec`,
:mod:`~whichmodel.cli.bench`, :mod:`~whichmodel.cli.machine`, :mod:`~whichmodel.cli.choose`), the
options they share (:mod:`~whichmodel.cli.options`), where each setting comes from
(:mod:`~whichmodel.cli.config`) and everything printed (:mod:`~whichmodel.cli.render`).
:func:`main` is the ``whichmodel`` command: whatever happens, the terminal gets one line, never a
traceback. Before the command: ``--version``, ``--quiet``/``--verbose``, and shell completion
(``--install-completion``, ``--show-completion``).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Annotated, Any, NoReturn

import typer

from whichmodel.cli import bench, choose, compare, machine, render, samples, spec
from whichmodel.cli.render import fail
from whichmodel.errors import ConfigError, WhichModelError


def _hide_argument_types() -> None:
    """Arguments named in words (metavar ``REF``) print no Python type beside the name: typer
    writes ``REF <list[str]>`` for a list argument and offers no switch for it (options have
    their metavar instead). Arguments without a metavar keep typer's display. Older typer (0.16)
    has no such method and prints the metavar alone already: nothing to change there."""
    from typer.core import TyperArgument

    typer_display = getattr(TyperArgument, "display_type_rich", None)
    if typer_display is None:
        return

    def display(self: TyperArgument, ctx: Any) -> str | None:
        return None if self.metavar else typer_display(self, ctx)

    TyperArgument.display_type_rich = display  # type: ignore[method-assign,assignment]


_hide_argument_types()

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: rich's boxes squeeze the descriptions into a column of ~20 characters at 80
    # columns, cut long flag names, and print every flag's type as <bool>.
    rich_markup_mode=None,
    help="Why do two models behave differently, and which one should you ship?",
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        render.plain(f"whichmodel {version('whichmodel')}")
        raise typer.Exit()


@app.callback()
def _before_the_command(
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print only the result or decision, and errors."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print when each step starts and ends.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version,
                     help="Print the version and exit."),
    ] = False,
) -> None:
    if quiet and verbose:
        raise ConfigError("--quiet and --verbose contradict each other; give one.")
    render.set_verbosity(render.QUIET if quiet else render.VERBOSE if verbose else render.NORMAL)

app.command()(compare.compare)
app.command()(compare.demo)
app.command("inspect")(spec.inspect_command)
app.command("diff")(spec.diff_command)
app.command("windows")(bench.windows_command)
app.command("bench")(bench.bench_command)
app.command("machine")(machine.machine_command)
app.command()(choose.choose)
app.command()(choose.gate)
app.command("report")(choose.report_command)
app.command("compare-samples")(samples.compare_samples_command)

INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, as a shell reports Ctrl-C
_USER_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.ENOSPC,
                          errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EISDIR, errno.ENOTDIR})


def main() -> None:
    """Console entry point. Whatever happens, the terminal gets one line, never a traceback:

    - a user error (:class:`WhichModelError`, a bad option): what is wrong and what to do, exit 2;
    - an OSError on a path the user gave or on the machine's disk: which and why, exit 2;
    - Ctrl-C: what was kept, exit 130;
    - anything else is a bug: ``internal error: ...`` and the path of a saved report, exit 1.
    """
    if os.getcwd() not in sys.path:  # as with `python -m`: factories in the current folder import
        sys.path.insert(0, os.getcwd())
    try:
        # The name completion scripts and usage lines give, also under `python -m whichmodel`.
        code = app(standalone_mode=False, prog_name="whichmodel")
    except WhichModelError as exc:
        fail(str(exc), exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        code = INTERRUPTED_EXIT_CODE
    except Exception as exc:
        if _is_click_error(exc):  # a bad option or argument; typer would draw a box of 6 lines
            _usage_error(exc)
        if isinstance(exc, OSError) and exc.errno in _USER_ERRNOS:
            # A path the user gave, or the machine's disk, not a bug: say which and why.
            where = f" {exc.filename}" if exc.filename else ""
            fail(f"cannot use{where}: {exc.strerror}. Check the path, its permissions and the "
                 "free space.", 2)
        from whichmodel.crash import one_line, save_report

        report = save_report(exc, sys.argv)
        where = f"; report saved to {report}" if report else " (no report: nowhere to write it)"
        fail(f"{one_line(exc)}{where}. Please report it with that file.", 1,
             label="internal error")
    if code == INTERRUPTED_EXIT_CODE:  # newer typer turns Ctrl-C into this exit code itself
        reached = render.kept()
        fail(f"interrupted; what finished is in the store{f' ({reached})' if reached else ''}, "
             "and the same command resumes from it", INTERRUPTED_EXIT_CODE, label="stopped")
    sys.exit(code if isinstance(code, int) else 0)


def _is_click_error(exc: Exception) -> bool:
    # By class name: typer >= 0.2x raises its vendored copy of click's exceptions, older typer
    # click's own.
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__)


def _usage_error(exc: Any) -> NoReturn:
    if type(exc).__name__ == "NoArgsIsHelpError":  # no arguments at all: the help, on stdout
        sys.stdout.write(exc.ctx.get_help() + "\n")
        sys.exit(exc.exit_code)
    message = exc.format_message()
    if not message.strip():
        sys.exit(exc.exit_code)
    ctx = getattr(exc, "ctx", None)
    hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
    fail(message.strip() + hint, exc.exit_code)


__all__ = ["INTERRUPTED_EXIT_CODE", "app", "main"]
