"""Model governance and audit toolkit for regulated machine learning.

The package is a library first and a command line second: every command of ``governance`` is a thin wrapper over a
function importable from here. The command line contract (commands, flags, exit codes) is described in the README.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("quickloan-governance")
except _metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
