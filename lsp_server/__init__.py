"""The codeloupe language server (pygls): a thin adapter from LSP requests to `indexer`.

Run it with `python -m lsp_server [--tcp HOST:PORT]` or `lsp_server.server.serve()`.
"""
