"""`python -m indexer` runs the codeloupe command line."""

from indexer.cli import main

main()
