"""A bounded slice of the outside-root probe (benchmarks/probes/outside_root.py): through the
language server (also while another process holds the index write lock), the MCP server and
the CLI with and without its daemon, no answer holds a secret kept outside the repository,
reached by a tracked directory swapped for a symlink, symlinked files and directories, `..`,
absolute paths, `.git`, hostile revisions and URIs of other roots."""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks.probes.outside_root import World, _run_mcp, run_cli, run_lsp


def _clean(row: dict) -> None:
    assert row["tried"] > 0, row
    assert (row["crashes"], row["hangs"], row["wrong"], row["leaks"]) == (0, 0, 0, 0), row


def test_language_server_and_mcp_never_answer_with_an_outside_file(tmp_path: Path) -> None:
    _clean(run_lsp(World(tmp_path, "lsp"), 20.0, None, locked=False))
    _clean(run_lsp(World(tmp_path, "lsp-locked"), 20.0, None, locked=True))
    _clean(asyncio.run(_run_mcp(World(tmp_path, "mcp"), 15.0, None)))


def test_cli_never_answers_with_an_outside_file(tmp_path: Path) -> None:
    _clean(run_cli(World(tmp_path, "cli"), False, 20.0, 6))
    _clean(run_cli(World(tmp_path, "daemon"), True, 20.0, 6))
