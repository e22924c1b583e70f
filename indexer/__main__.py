"""`python -m indexer` runs the codeloupe command line."""

from indexer.child_processes import forget_working_directory

forget_working_directory(__file__)

from indexer.cli.entry import main  # noqa: E402 - after the import path is made safe

main()
