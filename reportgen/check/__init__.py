"""Check stage: what a report's files must agree on once each is read.

References from report.yml into the results, comparability of the
environments, links in the prose, and numbers typed by hand against the
analysis.  Errors are raised with every problem at once; warnings are
returned.  ``checks.analysed`` is the one call that reads, checks and
analyses a report.
"""
