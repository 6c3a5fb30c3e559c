"""The package's exceptions: each names the problem and, where there is one, what to do about it."""


class XrecError(Exception):
    """Base class of every error raised on purpose by xrec_lib."""


class ConfigError(XrecError, ValueError):
    """An unknown profile or parameter name, or a parameter value of the wrong kind."""


class DataError(XrecError, ValueError):
    """Input data is malformed: empty file, bad row, unknown id, NaN, inconsistent arrays."""


class MissingDataError(XrecError, FileNotFoundError):
    """A real dataset is not under the data root (the message says to run ``make data``)."""


class ChecksumError(DataError):
    """A data file's sha256 differs from the manifest."""
