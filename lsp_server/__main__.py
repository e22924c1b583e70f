"""`python -m lsp_server [--stdio | --tcp HOST:PORT]`: run the codeloupe language server."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from indexer.child_processes import forget_working_directory, harden_child_pythons

if __name__ == "__main__":
    forget_working_directory(__file__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lsp_server",
                                     description="The codeloupe language server.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    mode.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP socket instead")
    parser.add_argument("--log-file", help="write the log here instead of stderr")
    parser.add_argument("--log-level", default=os.environ.get("CODELOUPE_LOG_LEVEL", "WARNING"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)
    args = parser.parse_args(argv)
    harden_child_pythons()
    os.umask(0o077)  # indexes hold the text of private code: files 0600, folders 0700
    target = {"filename": args.log_file} if args.log_file else {"stream": sys.stderr}
    logging.basicConfig(level=getattr(logging, args.log_level),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", **target)

    from lsp_server.server import serve

    try:
        return serve(tcp=args.tcp)
    except ValueError as exc:
        parser.error(str(exc))
    return 2


if __name__ == "__main__":
    sys.exit(main())
