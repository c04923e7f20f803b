"""The URL fetcher of a PDF render: the build's own files, and nothing else.

WeasyPrint asks this fetcher for every resource the page names (styles,
fonts, charts).  It serves regular files under the allowed roots (the staging
output root and ``templates/``) with their media type, and refuses every other
path, host, scheme (http(s), data:) or device, recording why so the render
stops with a :class:`~reportgen.core.errors.BuildError` naming the report and
the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

MEDIA_TYPES = {
    ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
    ".otf": "font/otf",
}


def fetcher_class() -> Any:
    """The safe fetcher, defined lazily so importing this module stays cheap."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):  # type: ignore[misc]
        """Serves regular files under the allowed roots; refuses everything else."""

        def __init__(self, report: str, roots: Sequence[Path]) -> None:
            super().__init__(allowed_protocols=("file",), fail_on_errors=True)
            self.report = report
            self.roots = tuple(Path(r).resolve() for r in roots)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            path, why = self._check(url)
            if path is None:
                message = f"report {self.report}: cannot use '{url}': {why}"
                self.refused.append(message)
                raise FatalURLFetchingError(message)
            kind = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
            return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                      headers={"Content-Type": kind})

        def _check(self, url: str) -> tuple[Path | None, str]:
            parts = urlsplit(url)
            if parts.scheme != "file":
                kind = f"{parts.scheme}:" if parts.scheme else "a relative reference"
                return None, (f"{kind} resources are not allowed; a PDF uses only the"
                              " build's own files")
            if parts.netloc not in ("", "localhost"):
                return None, "files on other hosts are not allowed"
            path = Path(unquote(parts.path))
            resolved = path.resolve()
            if not any(resolved.is_relative_to(root) for root in self.roots):
                return None, "only the build's own files (charts, styles, fonts) may be used"
            if not resolved.exists():
                return None, "no such file in the build"
            if not resolved.is_file():
                return None, "not a regular file"
            return resolved, ""

    return SafeFetcher
