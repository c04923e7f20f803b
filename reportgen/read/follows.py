"""report.yml's ``follows:``: the earlier report of the site a report follows.

The name is a report's slug (the name of a report directory site.yml lists)
or a directory relative to the report's own.  A name that is no report, a
report site.yml does not list, or a chain of ``follows:`` that comes back to
where it started is one problem at the ``follows:`` value.  Other reports'
report.yml are only read for their own ``follows:`` value, to find a cycle;
their other problems are their own build's to report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from reportgen.core.documents import parse_yaml
from reportgen.core.errors import InputError
from reportgen.core.placeholders import hint
from reportgen.read.report_yml import Loaded, load_report


def resolve(report_dir: Path, name: str, reports: Sequence[Path]) -> Path | str:
    """The report directory ``name`` designates, or why it designates none."""
    by_slug = {d.name: d for d in reports}
    if name in by_slug:
        return by_slug[name]
    target = report_dir / name
    listed = {d.resolve(): d for d in reports}
    if target.resolve() in listed:
        return listed[target.resolve()]
    if (target / "report.yml").is_file():
        return f"follows: '{name}' is a report of another site: site.yml does not list it"
    return f"follows: no report '{name}' in this site{hint(name, by_slug)}"


def named(report_dir: Path) -> str:
    """The ``follows:`` value of a report.yml, read on its own; "" when it has
    none or cannot be read (its own build says why)."""
    try:
        data = parse_yaml((report_dir / "report.yml").read_text("utf-8"), "",
                          printable=False).data
    except (OSError, UnicodeDecodeError, InputError):
        return ""
    found = data.get("follows") if isinstance(data, dict) else None
    return found if isinstance(found, str) else ""


Named = Callable[[Path], str]  # a report directory's `follows:` value


def cycle(start: Path, first: Path, reports: Sequence[Path], names: Named = named
          ) -> list[Path]:
    """The reports of a cycle of ``follows:`` from ``start`` (which follows
    ``first``) round to ``start`` again; [] when the chain ends, or runs into
    a cycle without ``start`` (its own reports say so).  ``names`` gives each
    report's ``follows:`` (by default read from its file)."""
    chain = [start]
    current: Path | str = first
    while isinstance(current, Path):
        if current.resolve() == start.resolve():
            return chain + [start]
        if any(current.resolve() == c.resolve() for c in chain):
            return []
        chain.append(current)
        name = names(current)
        if not name:
            return []
        current = resolve(current, name, reports)
    return []


def earlier(loaded: Loaded, reports: Sequence[Path], names: Named = named) -> Loaded | None:
    """The report ``loaded`` follows, loaded; None when it follows none (or
    when that report cannot be loaded: its own build reports why).  Raises
    one problem at ``follows:`` for a name that is no report of the site, and
    for a cycle, at the report of the cycle whose slug sorts first.  ``names``
    gives the other reports' ``follows:`` (a build knows them from its
    manifest, which spares parsing every report.yml up the chain)."""
    name = loaded.report.follows
    if not name:
        return None
    found = resolve(loaded.directory, name, reports)
    if isinstance(found, str):
        raise InputError([loaded.document.problem(("follows",), found)])
    ring = cycle(loaded.directory, found, reports, names)
    if ring and min(d.name for d in ring) == loaded.directory.name:  # the others stay quiet
        raise InputError([loaded.document.problem(
            ("follows",), f"follows: '{name}' makes a cycle: "
                          f"{' -> '.join(d.name for d in ring)}; a report can only follow "
                          "an earlier one")])
    try:
        return load_report(found)
    except InputError:
        return None
