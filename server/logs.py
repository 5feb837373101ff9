"""Server logging that cannot carry PHI.

Our own log calls never pass document or completion text. Libraries do: pygls
logs whole messages (``didOpen`` carries the document) when a handler fails
and at INFO level. So every record from outside Guardcode loses its arguments
and traceback before it is written; only the message template and the
exception class are kept.
"""

from __future__ import annotations

import logging
import sys

_OWN = "guardcode"


class StripArguments(logging.Filter):
    """Keep third-party records to their template and exception class."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == _OWN or record.name.startswith(f"{_OWN}."):
            return True
        if record.exc_info and record.exc_info[0] is not None:
            record.msg = f"{record.msg} [{record.exc_info[0].__name__}]"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def configure(level: str = "info") -> None:
    """Log to stderr (stdout is the LSP channel) through the stripping filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(StripArguments())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(_OWN).setLevel(level.upper())
