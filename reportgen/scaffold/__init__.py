"""Scaffold: `reportgen new`, a report directory that builds at once.

Reads the given results files, chooses a baseline, groups metrics into
sections and writes a report.yml whose every number is a placeholder.
"""
