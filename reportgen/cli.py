"""The `reportgen` command line.

Errors in the user's input are ReportgenError subclasses whose message is
already the full ``file:line:col: message`` text: they are printed as they
are, with exit status 2 and no traceback.  A write the system refuses (an
OSError, or a WriteRefused found before anything was written) is one line and
exit status 1.  SIGINT, SIGTERM and SIGHUP stop
every command with one line naming the signal and exit status 128 + its
number (reportgen.core.signals).
"""

from __future__ import annotations

import atexit
import gc
import os
import re
import sys
import threading
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from reportgen import __version__
from reportgen.core import signals
from reportgen.core.errors import ReportgenError, WriteRefused, printable

# numpy's OpenBLAS starts a thread per core when it is imported, which cost a
# tenth of a second of a one-report rebuild here; reportgen calls no BLAS
# routine, so one thread will do unless the user asks for more.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INPUT = 2
EXIT_ENVIRONMENT = 1
LABEL = re.compile(r"[a-z][a-z0-9_-]*")  # as the results schema says

site_option = click.option("-f", "--file", "site_file", default="site.yml", show_default=True,
                           type=click.Path(path_type=Path, dir_okay=False),
                           help="The site file.")
verbose_option = click.option("--verbose", is_flag=True,
                              help="Print every warning, not one line per kind of warning.")


def reports_errors(func: F) -> F:
    """Turn input errors into their message on stderr and exit status 2, a
    system that refuses a write (disk full, permission, name too long) into
    one line and exit status 1, and a stopping signal into one line naming it
    and exit status 128 + its number."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with signals.stop_on_signals():
                return func(*args, **kwargs)
        except ReportgenError as exc:
            click.echo(printable(str(exc)), err=True)
            sys.exit(EXIT_INPUT)
        except WriteRefused as exc:
            click.echo(printable(str(exc)), err=True)
            sys.exit(EXIT_ENVIRONMENT)
        except OSError as exc:
            click.echo(printable(environment_error(exc)), err=True)
            sys.exit(EXIT_ENVIRONMENT)
        except KeyboardInterrupt as exc:  # one line, not click's "Aborted!"
            stop = signals.Stopped.of(exc)
            click.echo(f"reportgen: {stop}", err=True)
            sys.exit(stop.status)

    return wrapper  # type: ignore[return-value]


def environment_error(exc: OSError) -> str:
    """``reportgen: <path>: <reason>``: what the system refused, in one line."""
    where = f"{exc.filename}: " if exc.filename is not None else ""
    return f"reportgen: {where}{exc.strerror or exc}"


def _formats(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    chosen = tuple(f.strip() for f in value.split(",") if f.strip())
    unknown = [f for f in chosen if f not in ("html", "pdf", "txt", "md")]
    if unknown or not chosen:
        raise click.BadParameter(f"expected a comma-separated list of html, pdf, txt, md; "
                                 f"got {value!r}")
    return chosen


@click.group()
@click.version_option(__version__, prog_name="reportgen")
def main() -> None:
    """Turn benchmark results and an author's analysis into reports."""


def run() -> NoReturn:
    """The `reportgen` command (console script and ``python -m reportgen``):
    :func:`main`, then the process ends as :func:`end` says."""
    try:
        main()
    except SystemExit as exc:
        end(exc.code)
    end(0)


def end(code: object) -> NoReturn:
    """Exit with ``code`` as ``sys.exit`` would, without Python's interpreter
    finalization when nothing else runs: tearing down every module and
    collecting the garbage once more took 46 to 68 ms with what a one-report
    rebuild loads (benchmarks/exit_cost), and writes nothing.
    The atexit handlers run and the output is flushed first; with another
    thread or a child process alive, the normal exit waits for them, and
    under a profiler or debugger (cProfile writes its figures after the
    command returns) it is the normal exit too."""
    children = "multiprocessing" in sys.modules and sys.modules["multiprocessing"].active_children()
    watched = sys.getprofile() is not None or sys.gettrace() is not None
    if threading.active_count() > 1 or children or watched:
        sys.exit(code)  # type: ignore[arg-type]
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message") prints it and exits 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(status)


# Each command imports its stage when it runs, so that `reportgen --help` and
# `--version` load click and no stage (benchmarks/build_speed times `--help`).


@main.command()
@site_option
# an existing file is refused by the build's own output check, in one line
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output directory (default: site.yml's output).")
@click.option("--formats", help="Comma-separated formats to build: html,pdf,txt,md "
                                "(default: site.yml's formats).")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@verbose_option
@reports_errors
def build(site_file: Path, output: Path | None, formats: str | None, strict: bool,
          verbose: bool) -> None:
    """Build the site: HTML, PDF, text and Markdown for every report."""
    from reportgen.site.build import build as run

    # A build is one short process: reference counting frees what it drops,
    # and the cyclic collector's passes over the loaded modules and the
    # manifest took ~40 ms of a one-report edit of a 200-report site, ~0.2 s
    # when its charts are drawn again.  A forked PDF renderer collects as
    # usual; `serve`, which lives on, never turns it off.
    gc.disable()
    os.register_at_fork(after_in_child=gc.enable)
    run(site_file, output_dir=output, formats=_formats(formats), strict=strict, verbose=verbose)


@main.command()
@site_option
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@verbose_option
@reports_errors
def check(site_file: Path, strict: bool, verbose: bool) -> None:
    """Validate site.yml, every report.yml and results file; write nothing."""
    from reportgen.core.errors import InputError, Problem, summary
    from reportgen.site.build import check as run

    analyses, warnings = run(site_file)
    errors = Problem.escalated(warnings) if strict else []
    # an escalated warning is printed once, as an error
    for line in summary([w for w in warnings if w not in errors], verbose):
        click.echo(line, err=True)
    if errors:
        raise InputError(Problem.as_errors(errors))
    click.echo(f"{site_file}: {len(analyses)} report(s) OK", err=True)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@reports_errors
def probe(args: tuple[str, ...]) -> None:
    """Run the probes here, over ssh or in alternating rounds (try --help)."""
    from reportgen.measure.probe import run

    sys.exit(run(list(args)))


@main.command("new")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.argument("more_results", nargs=-1, type=click.Path(path_type=Path), metavar="")
@click.option("--results", "results", multiple=True, type=click.Path(path_type=Path),
              metavar="FILE...",
              help="Results files (two or more: --results a.json b.json).")
@click.option("--baseline", help="Label of the baseline environment (default: the host's "
                                 "results, else the first file).")
@click.option("--title", help="The report's title (default: from the directory name).")
@click.option("--date", help="The report's date, YYYY-MM-DD (default: today).")
@verbose_option
@reports_errors
def new(directory: Path, more_results: tuple[Path, ...], results: tuple[Path, ...],
        baseline: str | None, title: str | None, date: str | None, verbose: bool) -> None:
    """Create DIRECTORY (reports/<slug>) from results files: a report.yml to fill in."""
    from reportgen.core.errors import display, summary
    from reportgen.scaffold.new import ScaffoldError, new_report

    if not results:
        raise ScaffoldError("reportgen new: name the results files with --results "
                            "(e.g. --results native.json guest.json)")
    created = new_report(directory, [*results, *more_results], baseline=baseline,
                         title=title, date=date)
    for line in summary(created.warnings, verbose):
        click.echo(line, err=True)
    shown = display(created.report_dir)
    click.echo(f"created {shown}: baseline '{created.baseline}', "
               f"{len(created.families)} section(s)", err=True)
    click.echo(f"next: fill in the TODOs in {shown}/report.yml, then run `reportgen serve` "
               "or `reportgen build`", err=True)


@main.command("import")
@click.argument("tool", type=click.Choice(["fio", "sysbench", "hyperfine", "pts"]))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path),
                metavar="FILE...")
@click.option("--label", required=True, help="The environment's label, e.g. guest.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The results file to write.")
@click.option("--system", help="pts: the system (its Identifier) to import, when the file "
                               "holds several.")
@click.option("--test", help="sysbench: the test that wrote the output, when it does not say "
                             "(threads, mutex), or the OLTP script (oltp_read_write...).")
@click.option("--tool-version", help="The tool's version, when its output does not say "
                                     "(hyperfine).")
@click.option("--shell", help="hyperfine: the shell its commands ran in, as given to its "
                              "--shell ('none' for -N); recorded in params.")
@click.option("--keep-failed-runs", is_flag=True,
              help="hyperfine: import runs whose command failed (recorded under -i) instead "
                   "of marking the metric failed.")
@reports_errors
def import_(tool: str, files: tuple[Path, ...], label: str, output: Path, system: str | None,
            test: str | None, tool_version: str | None, shell: str | None,
            keep_failed_runs: bool) -> None:
    """Write one results file from TOOL's output files (each file one round)."""
    from reportgen.importers import ImportFailure, import_files, write
    from reportgen.importers.common import Options

    for option, value, only in (("--system", system, "pts"), ("--test", test, "sysbench"),
                                ("--tool-version", tool_version, "hyperfine"),
                                ("--shell", shell, "hyperfine"),
                                ("--keep-failed-runs", keep_failed_runs or None, "hyperfine")):
        if value is not None and tool != only:
            raise ImportFailure(f"reportgen import: {option} applies to {only} only")
    if test is not None and tool == "sysbench":
        from reportgen.importers.sysbench import TESTS

        if test not in TESTS:
            raise ImportFailure(f"reportgen import: --test: expected one of {', '.join(TESTS)}; "
                                f"got {test!r}")
    if not LABEL.fullmatch(label):
        raise ImportFailure(f"reportgen import: --label: expected a short name of lower-case "
                            f"letters, digits, '_' and '-', starting with a letter; got "
                            f"{label!r}")
    done = import_files(tool, files, label, Options(
        system=system, test=test, tool_version=tool_version, shell=shell,
        keep_failed=keep_failed_runs))
    for warning in done.warnings:
        click.echo(str(warning), err=True)
    write(done.doc, output)
    # A failed metric is kept in the file (the report shows it as failed), but
    # the person importing should hear of it now, not at build time.
    for metric in done.doc["metrics"]:
        if metric.get("status") == "failed":
            click.echo(f"{output}: warning: metric '{metric['id']}' failed: {metric['error']}",
                       err=True)
    count = len(done.doc["metrics"])
    click.echo(f"wrote {output}: {count} metric(s), {len(done.doc['rounds'])} round(s), "
               f"label '{label}'", err=True)


@main.command()
@site_option
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--formats", default="html,txt,md", show_default=True,
              help="Comma-separated formats to build: html,pdf,txt,md.")
@click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False),
              help="Build into this directory (default: a temporary one, removed on exit).")
@verbose_option
@reports_errors
def serve(site_file: Path, port: int, formats: str, output: Path | None, verbose: bool) -> None:
    """Preview the site on 127.0.0.1, rebuilding when an input changes."""
    from reportgen.site.serve import serve as run

    chosen = _formats(formats)
    assert chosen is not None
    run(site_file, port=port, formats=chosen, output_dir=output, verbose=verbose)
