"""Layout fitting of a PDF: charts that would leave a gap are drawn smaller.

When WeasyPrint moves a chart to the top of the next page although the page
before had room for most of it, this module writes the CSS rules that cap the
chart's height so it stays there (drawn at least SHRINK_LIMIT of its size,
so its text stays legible), lays out again, and, given the rules the previous build asked for, does the plain
layout in a forked copy of the process while this one tries the guess.  It
owns only the fitting; the layout itself is the caller's ``lay_out``.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from reportgen.core.lifeline import die_with

SHRINK_LIMIT = 0.85  # a chart is drawn at least this big to stay on its page: text >= 8.5 pt
FIT_PASSES = 2  # extra layouts at most: fitting one chart can move the next
PX_PER_MM = 96 / 25.4


def laid_out(lay_out: Callable[[Sequence[str]], Any], guess: Sequence[str]
             ) -> tuple[Any, list[str]]:
    """The laid-out document with its moved charts fitted, and the rules its
    first layout asked for.

    Without a guess: lay out, fit the charts that moved, lay out again (up to
    FIT_PASSES times).  With the previous build's first rules as ``guess``, a
    forked copy of this process does the first layout while this one lays out
    with the guess; when the copy asks for exactly the guessed rules, the
    second layout is already done, on the second core.  Either way the
    layouts that count are the same, so the PDF is the same bytes.
    """
    document, first = None, None
    if guess and hasattr(os, "fork"):
        copy = _Forked(lambda: _fit_moved_charts(lay_out(())))
        try:
            speculative = lay_out(guess)
        except BaseException:
            copy.cancel()
            raise
        first = copy.result()  # None if the copy failed: then lay out here
        if first == list(guess):
            document = speculative
    if first is None:
        plain = lay_out(())
        first = _fit_moved_charts(plain)
        document = None if first else plain
    if document is None:
        document = lay_out(first)
    fits = list(first)
    for _ in range(FIT_PASSES - 1):  # fitting one chart can move the next
        more = _fit_moved_charts(document) if fits else []
        if not more:
            break
        fits += more
        document = lay_out(fits)
    return document, first


class _Forked:
    """``work`` run in a forked copy of this process, its answer read back as JSON."""

    def __init__(self, work: Callable[[], list[str]]) -> None:
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the copy: answer, then leave without running any cleanup
            os.close(read)
            status = 1
            try:
                die_with()
                with os.fdopen(write, "wb") as out:
                    out.write(json.dumps(work()).encode())
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self.pipe = os.fdopen(read, "rb")

    def cancel(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.pipe.close()

    def result(self) -> list[str] | None:
        """The copy's answer, or None when it failed or was killed."""
        with self.pipe:
            data = self.pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if status != 0:
            return None
        answer = json.loads(data)
        assert isinstance(answer, list)
        return [str(rule) for rule in answer]


def _fit_moved_charts(document: Any) -> list[str]:
    """CSS that caps the height of each chart WeasyPrint moved to the top of a new
    page although the page before had room for it drawn at least SHRINK_LIMIT
    of its size, so the chart is drawn a little smaller there instead of
    leaving a gap.  Only the image shrinks: its caption and margins do not."""
    rules = []
    for before, page in zip(document.pages, document.pages[1:]):
        area = page._page_box  # WeasyPrint's laid-out boxes
        top = area.content_box_y()
        for box in _boxes(area):
            element = getattr(box, "element", None)
            ident = element.get("id", "") if element is not None else ""
            if getattr(box, "element_tag", "") != "figure" or not ident.startswith("chart-"):
                continue
            if box.position_y - top > 1:
                break  # not at the top of the page: it was not moved
            image = next((b for b in _boxes(box) if type(b).__name__ in _IMAGES), None)
            over = box.margin_height() - _room_left(before._page_box)
            if image is not None and 0 < over <= (1 - SHRINK_LIMIT) * image.height:
                height = (image.height - over - 2) / PX_PER_MM
                rules.append(f"#{ident} svg, #{ident} img "
                             f"{{ max-height: {height:.1f}mm !important; }}")
            break
    return rules


def _room_left(page_box: Any) -> float:
    """How much of a page's content area is left below its last line, row or
    image, in CSS px (the blocks around them may reach the page's foot when they
    continue on the next one)."""
    bottom = page_box.content_box_y() + page_box.height
    used = max((b.position_y + b.margin_height() for b in _boxes(page_box)
                if type(b).__name__ in _LEAVES or not getattr(b, "children", None)),
               default=page_box.content_box_y())
    return max(0.0, float(bottom - used))


_IMAGES = {"BlockReplacedBox", "InlineReplacedBox"}
_LEAVES = {"LineBox", "TableRowBox", *_IMAGES}


def _boxes(box: Any) -> Iterator[Any]:
    """Every box under ``box`` in document order (margin boxes excluded)."""
    for child in getattr(box, "children", ()):
        if type(child).__name__ == "MarginBox":
            continue
        yield child
        yield from _boxes(child)
