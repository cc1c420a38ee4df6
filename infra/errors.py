"""The one base of qpart's errors: every error that names a bad input (a file, a key, a branch,
a layer) derives from QpartError, so a command-line entry point catches it once (exit_code) and
exits 2."""


class QpartError(Exception):
    """Bad input or a failed step of the pipeline; the message says which file / key / layer."""


def exit_code(main):
    """Wrap a command-line entry point: a QpartError becomes one line on stderr ("error: ...")
    and exit code 2; whatever else the entry point returns is its exit code."""
    import functools
    import sys

    @functools.wraps(main)
    def wrapped(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except QpartError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2

    return wrapped
