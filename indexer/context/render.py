"""A context pack as text: markdown, XML or JSON. Byte-for-byte deterministic."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

from indexer.context.blocks import Block
from indexer.repo import path_fields

FORMATS = ("markdown", "xml", "json")
FENCE_LANG = {"python": "python", "javascript": "javascript", "typescript": "typescript",
              "tsx": "tsx", "go": "go", "rust": "rust", "java": "java", "c": "c", "cpp": "cpp",
              "c_sharp": "csharp", "ruby": "ruby", "php": "php", "kotlin": "kotlin",
              "swift": "swift", "scala": "scala", "bash": "bash", "sql": "sql", "html": "html",
              "css": "css", "markdown": "markdown", "json": "json", "yaml": "yaml",
              "toml": "toml"}


def anchor(block: Block, rev: str) -> str:
    where = f"{block.path}:{block.start_line}-{block.end_line}"
    return where + (f" @ {rev}" if rev != "worktree" else "")


def render_block(block: Block, rev: str, fmt: str) -> str:
    why = "; ".join(block.reasons)
    if fmt == "markdown":
        fence = "````" if "```" in block.text else "```"
        symbol = f" `{block.symbol}`" if block.symbol else ""
        trimmed = " (trimmed to signature)" if block.trimmed else ""
        return (f"### {anchor(block, rev)}{symbol}{trimmed} — {why}\n"
                f"{fence}{FENCE_LANG.get(block.language, '')}\n{block.text}{fence}\n\n")
    if fmt == "xml":
        attrs = (f"path={quoteattr(block.path)} lines=\"{block.start_line}-{block.end_line}\" "
                 f"rev={quoteattr(rev)} symbol={quoteattr(block.symbol)} "
                 f"why={quoteattr(why)}" + (' trimmed="true"' if block.trimmed else ""))
        return f"<block {attrs}>\n{escape(block.text)}</block>\n"
    return json.dumps(block_dict(block, rev), ensure_ascii=False)


def block_dict(block: Block, rev: str) -> dict:
    return {**path_fields(block.path), "start_line": block.start_line, "end_line": block.end_line,
            "rev": rev, "symbol": block.symbol, "language": block.language,
            "reasons": block.reasons, "trimmed": block.trimmed, "text": block.text}


def render(instructions: str, task: str, blocks: list[Block], rev: str, fmt: str) -> str:
    if fmt == "markdown":
        head = f"{instructions.strip()}\n\n" if instructions.strip() else ""
        head += f"## Task\n{task.strip()}\n\n## Context\n\n"
        return head + "".join(render_block(b, rev, fmt) for b in blocks)
    if fmt == "xml":
        head = "<context>\n"
        if instructions.strip():
            head += f"<instructions>{escape(instructions.strip())}</instructions>\n"
        head += f"<task>{escape(task.strip())}</task>\n"
        return head + "".join(render_block(b, rev, fmt) for b in blocks) + "</context>\n"
    # json: one document; blocks in order
    return json.dumps({"instructions": instructions.strip(), "task": task.strip(),
                       "rev": rev, "blocks": [block_dict(b, rev) for b in blocks]},
                      ensure_ascii=False, indent=1) + "\n"
