"""`python -m indexer` runs the codeloupe command line."""

from indexer.cli.entry import main

main()
