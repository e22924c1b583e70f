"""`python -m indexer.embed.worker --repo ROOT --index-dir DIR [--rev REV]`: embed an index's
backlog at idle priority, then exit (see indexer.embed.backlog). SIGTERM stops it after the
batch it is encoding; exit status 0 when done or stopped, 3 when another worker runs."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer.embed.worker")
    parser.add_argument("--repo", required=True)
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--rev", default=None)
    parser.add_argument("--priority", default=None,
                        help="idle (default), nice or normal: how much to yield the CPU")
    args = parser.parse_args(argv)

    from indexer.embed.backlog import PRIORITIES, BacklogRun, JobRunning, lower_priority
    from indexer.ingest import CancelToken
    from indexer.workspace import Workspace

    ws = Workspace.open(args.repo, index_dir=Path(args.index_dir))
    priority = args.priority or ws.settings.embedding_priority
    if priority not in PRIORITIES:
        print(f"codeloupe embed worker: unknown priority {priority!r}; use "
              f"{', '.join(PRIORITIES)}", file=sys.stderr)
        return 2
    # Before the model loads: ONNX Runtime's threads inherit the priority of their creator.
    lower_priority(priority)
    cancel = CancelToken()
    signal.signal(signal.SIGTERM, lambda *_: cancel.cancel())
    signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        status = BacklogRun(ws, args.rev, cancel).run()
    except JobRunning as exc:
        print(f"codeloupe embed worker: {exc}", file=sys.stderr)
        return 3
    finally:
        ws.close()
    print(f"codeloupe embed worker {status.get('pid')}: {status.get('state')}, "
          f"{status.get('done')}/{status.get('total')} texts embedded", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
