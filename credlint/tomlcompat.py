"""One import for TOML parsing on every supported Python."""
import sys

if sys.version_info >= (3, 11):
    import tomllib as toml  # noqa: F401
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as toml  # noqa: F401

TOMLDecodeError = toml.TOMLDecodeError
