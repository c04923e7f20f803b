"""Analyse stage: the statistics and verdicts every format shows, computed once.

``compare`` holds the comparison rules (medians, slowdown, bootstrap interval,
rank test, verdicts, labels, tiers); ``comparability`` says which metrics of
two environments may be compared at all; ``headline`` sums a report up;
``analysis`` builds the view the renderers draw from.  Pure functions over
the model: no files are read or written here.
"""
