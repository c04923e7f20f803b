"""The series pages: output/series/<id>/ for every series of the site.

Made in the build's main process from the points the render workers left in
the manifest (analyse/series.py), so no report is loaded here.  A series
whose points, titles and dates are those of the previous build keeps its
folder as it was (hard links, like an unchanged report): an edit of a report
outside a series, or of a report's prose only, draws no trend chart.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.core.model import Site
from reportgen.site import cache
from reportgen.site.output import link_tree, write
from reportgen.site.series import SERIES_DIR, Links

if TYPE_CHECKING:  # the views are made only in a site with a series
    from reportgen.analyse.series_view import View
    from reportgen.render.series import IndexEntry


def views(manifest: cache.Manifest, links: Links) -> list[tuple[View, str]]:
    """Every series of the site as its page shows it, with its key."""
    from reportgen.analyse.series_view import Member, view

    found = []
    for series in links.series:
        members = []
        for slug in series.slugs:
            entry = manifest.reports.get(slug)
            if entry is not None:
                members.append(Member(slug, entry.card["title"], entry.card["date"],
                                      entry.series))
        if len(members) < 1:
            continue
        key = hashlib.sha256(json.dumps([cache.code_key(), series.id, series.title,
                                         [vars(m) for m in members]], sort_keys=True)
                             .encode()).hexdigest()
        found.append((view(series.id, series.title, members), key))
    return found


def pages(manifest: cache.Manifest, links: Links, site: Site, stage: Path,
          previous: cache.Manifest | None) -> list[IndexEntry]:
    """Write every series' folder into ``stage`` (or carry it over) and record
    its key in ``manifest``; returns what the site index shows of each."""
    if not links.series:
        return []
    from reportgen.render import series as render_series  # matplotlib: only with a series

    entries = []
    for found, key in views(manifest, links):
        folder = f"{SERIES_DIR}/{found.id}"
        old = site.output / folder
        if previous is not None and previous.series.get(found.id) == key and old.is_dir():
            link_tree(old, stage / folder)
        else:
            files = (render_series.write_all(found) if "html" in site.formats
                     else render_series.json_only(found))
            for name, content in files.items():
                write(stage / folder / name, content)
        manifest.series[found.id] = key
        entries.append(render_series.index_entry(found, folder))
    return entries
