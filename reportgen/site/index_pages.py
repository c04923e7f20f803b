"""The site's own pages: index.html and 404.html, and with a base_url
sitemap.xml and feed.xml; made again only when something they show changed.

They are made from every report's card, so making them costs in proportion
to the site (the index's history table alone has a row per report and
shared metric), and so does reading the index again for the link check.  An
edit that changes no card (the prose of one report, most often) keeps them
as they were: hard links to the previous output's files, like an unchanged
report, with the index's ids and links kept in the manifest for the link
check.  Their key covers all they are made from: the cards, the formats
linked, the snapshots listed, the series shown, the site's title and
base_url, and the code.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.core.model import Site
from reportgen.site import cache, feeds

if TYPE_CHECKING:
    from reportgen.render.series import IndexEntry
    from reportgen.site.reports import Snapshots


def files(site: Site) -> tuple[str, ...]:
    """The files, under the output, that these pages are."""
    feed = (feeds.SITEMAP_FILE, feeds.FEED_FILE) if site.base_url else ()
    return ("index.html", "404.html", *feed)


def key(manifest: cache.Manifest, site: Site, snapshots: Mapping[str, Snapshots],
        series: Sequence[IndexEntry]) -> str:
    """Everything the pages are made from; ``snapshots``: each report's
    archived PDFs the index links (as for reports.site)."""
    cards = sorted(manifest.reports.items())  # the pages order them by date themselves
    shown = [cache.code_key(), site.title, site.base_url, list(site.formats),
             [[slug, e.card, snapshots[slug]] for slug, e in cards],
             repr(tuple(series))]
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def write(manifest: cache.Manifest, site: Site, stage: Path, archive_dir: Path,
          series: Sequence[IndexEntry], previous: cache.Manifest | None) -> None:
    """Make the pages in ``stage``, or link them from the previous output when
    their key is the previous build's; record the key in ``manifest``."""
    if "html" not in site.formats:
        return
    from reportgen.site.reports import snapshot_links

    # listed once, for the key and, when the pages are made again, for them;
    # without an archive (a site without PDFs) none is, and looking for each
    # report's index.json in it one by one was a third of this step
    none = _missing(archive_dir)
    snapshots = {slug: () if none else snapshot_links(site, slug, listed_in=archive_dir)
                 for slug in manifest.reports}
    found = key(manifest, site, snapshots, series)
    manifest.index = {"key": found, "pages": {}}
    kept = previous.index if previous is not None else {}
    if kept.get("key") == found and _carry(site.output, stage, files(site)):
        manifest.index["pages"] = kept.get("pages", {})
        return
    from reportgen.site import reports

    reports.site(manifest.cards(), site, stage, snapshots, series)


def _missing(folder: Path) -> bool:
    """Whether ``folder`` does not exist, so that nothing below it can be read
    (any other error is the reader's to report)."""
    try:
        os.stat(folder)
    except FileNotFoundError:
        return True
    except OSError:
        pass
    return False


def _carry(output: Path, stage: Path, names: Sequence[str]) -> bool:
    """Hard-link ``names`` from ``output`` into ``stage``; False (and nothing
    linked) when one of them is missing."""
    linked: list[Path] = []
    try:
        for name in names:
            os.link(output / name, stage / name, follow_symlinks=False)
            linked.append(stage / name)
    except FileNotFoundError:
        for path in linked:  # never write through a link into the live output
            path.unlink()
        return False
    return True
