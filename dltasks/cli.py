"""The ``dltasks`` command: ``demo``, and (with the server extra) ``serve`` and ``token``."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

__all__ = ["main"]

#: Modules that add sub-commands: each has ``add_parsers(subparsers)``.
_COMMAND_MODULES = ("dltasks.demo", "dltasks.server.cli")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(prog="dltasks", description="Local-first data-labelling tasks.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a sub-command; print dltasks errors as one line and exit 1."""
    from dltasks.errors import DltasksError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DltasksError as exc:
        print(f"dltasks: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
