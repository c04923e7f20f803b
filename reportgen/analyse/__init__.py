"""Analyse stage: the statistics and verdicts every format shows, computed once.

``stats`` computes (medians, slowdown, the bootstrap interval, the test on
round medians); ``compare`` turns those into verdicts, badges and tiers;
``wording`` puts them in words; ``comparability`` says which metrics of two
environments may be compared at all; ``headline`` sums a report up;
``analysis`` builds the view the renderers draw from.  Pure functions over
the model: no files are read or written here.
"""
