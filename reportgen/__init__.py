"""reportgen: turn benchmark runs into publishable reports."""

__version__ = "0.1.0"
