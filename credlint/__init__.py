"""credlint: which credentials each Prefect 1.x flow needs, where they come from, and what leaks."""

__version__ = "0.1.0"
