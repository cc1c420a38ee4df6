"""The one base of qpart's errors: every error that names a bad input (a file, a key, a branch,
a layer) derives from QpartError, so a command-line entry point catches it once and exits 2."""


class QpartError(Exception):
    """Bad input or a failed step of the pipeline; the message says which file / key / layer."""
