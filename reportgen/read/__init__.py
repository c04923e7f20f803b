"""Read stage: site.yml, report.yml and results JSON into the model.

Each file is parsed and validated against its JSON Schema (``schemas/``) on
its own; every problem is collected and raised at once.  Results documents
(format versions, pooling several files of one environment as rounds) live
in ``results``.  Looking across files is the check stage's job.
"""
