"""Render stage: one analysed report into each output format.

HTML pages and the site index (Jinja2), plain text in the bhyve post's
layout, Markdown, analysis.json, SVG charts (matplotlib) and the PDF
(WeasyPrint, in a process of its own).  Renderers take the analysis and
return bytes or write into a directory they are given; where the site
lives is the site stage's business.
"""
