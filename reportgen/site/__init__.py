"""Site stage: the build of a whole site, from plan to publish.

``build`` is the pipeline as a short script; ``reports`` renders changed
reports in worker processes; ``cache`` keeps the fingerprints that make
builds incremental; ``output`` stages, locks and swaps output/ in;
``archive`` keeps the dated PDF snapshots; ``index_pages`` (the index,
404 and ``feeds``) and ``linkcheck`` finish the site; ``serve`` rebuilds it
on change for a local preview.
"""
