"""Core: the pieces every stage shares and that know nothing of the pipeline.

The report model (plain dataclasses, no I/O), errors and problems with their
file:line:col, YAML/JSON documents that remember positions, how numbers and
units are written, placeholders in prose, the Markdown parser, atomic file
writes, signal handling, and where the shipped templates and probes live.
Nothing here imports another stage.
"""
