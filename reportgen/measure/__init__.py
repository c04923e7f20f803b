"""Measure: `reportgen probe`, the front end of the probes in ``probes/``.

Runs the probes here, as a single-file bundle (``bundle``), in another
machine over OpenSSH (``remote``), or in alternating rounds over several
environments (``rounds``).  The probes themselves stay standard-library only
and live outside the package.
"""
