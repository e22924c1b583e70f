"""Context packing on a real repository: budget, order, de-duplication, merging, trimming,
formats and determinism."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from indexer.context.blocks import Block, merge_blocks, near_duplicates, signature_and_docstring
from indexer.context.pack import ContextError, ContextRequest, pack_context
from indexer.gloss.tokens import count_tokens
from indexer.workspace import Workspace
from tests.conftest import make_repo

RETRY = '''
import time


def retry_with_backoff(call, attempts=5, base_delay=0.1):
    """Call `call` until it succeeds, sleeping twice as long after each failure."""
    for attempt in range(attempts):
        try:
            return call()
        except ConnectionError:
            time.sleep(base_delay * 2 ** attempt)
    raise TimeoutError("gave up after %d attempts" % attempts)
'''

FILES = {
    "shop/retry.py": RETRY,
    "vendor/retrylib/backoff.py": RETRY.replace("gave up after", "gave up after all"),
    "shop/payments.py": '''
from shop.retry import retry_with_backoff


class PaymentDeclined(Exception):
    """The card issuer said no."""


def charge_card(gateway, order, card):
    """Charge the order total to a card through the gateway, retrying network errors."""
    response = retry_with_backoff(lambda: gateway.charge(card, order.total_cents))
    if response.status == "declined":
        raise PaymentDeclined(response.reason)
    order.mark_paid(response.transaction_id)
    return response.transaction_id


def refund(gateway, order):
    """Give the money back for a paid order."""
    return retry_with_backoff(lambda: gateway.refund(order.transaction_id))
''',
    "shop/orders.py": '''
class Order:
    """An order moves from cart to paid to shipped; a paid order can be refunded."""

    def __init__(self, total_cents: int) -> None:
        self.total_cents = total_cents
        self.state = "cart"
        self.transaction_id = None

    def mark_paid(self, transaction_id: str) -> None:
        if self.state != "cart":
            raise ValueError("only a cart can be paid")
        self.state = "paid"
        self.transaction_id = transaction_id

    def mark_shipped(self) -> None:
        if self.state != "paid":
            raise ValueError("only a paid order ships")
        self.state = "shipped"
''' + "".join(f'''

def shipping_rule_{i}(order):
    """Shipping rule number {i} for orders of a given weight class."""
    weight = order.total_cents % {i + 7}
    return weight * {i + 1}
''' for i in range(12)),
}


@pytest.fixture
def repo(tmp_path: Path, index_root: Path) -> Path:
    return make_repo(tmp_path / "shop", FILES)


@pytest.fixture
def searcher(repo: Path):
    ws = Workspace.open(repo)
    semantic = ws.semantic(None)
    semantic.embed()
    yield semantic
    ws.close()


def assert_well_formed(pack) -> None:  # noqa: ANN001
    assert pack.tokens == count_tokens(pack.text) <= pack.budget
    seen: dict[str, list[tuple[int, int]]] = {}
    for b in pack.blocks:
        for start, end in seen.get(b.path, []):
            assert b.end_line < start or b.start_line > end, f"overlap in {b.path}"
        seen.setdefault(b.path, []).append((b.start_line, b.end_line))
    texts = [" ".join(b.text.split()) for b in pack.blocks]
    assert len(texts) == len(set(texts)), "exact duplicate blocks"


def test_pack_is_capped_deterministic_and_free_of_overlaps(searcher) -> None:  # noqa: ANN001
    request = ContextRequest("what happens when a card payment is declined", budget=900)
    first = pack_context(searcher, request)
    assert_well_formed(first)
    assert first.blocks and first.blocks[0].symbol in ("charge_card", "PaymentDeclined")
    again = pack_context(searcher, request)
    assert again.text == first.text
    for block in first.blocks:
        assert block.reasons  # each block says why it is there
    for line in first.text.splitlines():
        assert line == line.rstrip("\r")


def test_near_duplicate_vendored_copy_is_dropped(searcher) -> None:  # noqa: ANN001
    pack = pack_context(searcher, ContextRequest("retry with exponential backoff", budget=3000))
    copies = [b.path for b in pack.blocks if "retry_with_backoff" in b.symbol]
    assert copies == ["shop/retry.py"]  # one copy, and not the vendored one
    assert any(d["reason"] == "near-duplicate of shop/retry.py:5-12" for d in pack.dropped)


def test_selection_and_its_definitions_come_first(searcher) -> None:  # noqa: ANN001
    request = ContextRequest("why does this fail for shipped orders", budget=2000,
                             selection=("shop/payments.py", 10, 16))
    pack = pack_context(searcher, request)
    assert pack.blocks[0].path == "shop/payments.py" and "selection" in pack.blocks[0].reasons
    reasons = [r for b in pack.blocks[1:4] for r in b.reasons]
    assert "definition of retry_with_backoff" in reasons
    assert "definition of mark_paid" in reasons or any("mark_paid" in b.symbol
                                                       for b in pack.blocks)
    assert_well_formed(pack)


def test_small_budgets_trim_to_signatures_and_too_small_is_an_error(searcher) -> None:  # noqa: ANN001
    pack = pack_context(searcher, ContextRequest("order state transitions", budget=220))
    assert_well_formed(pack)
    assert any(b.trimmed for b in pack.blocks) or pack.dropped
    for b in pack.blocks:
        if b.trimmed:
            assert "lines elided" in b.text and b.text.endswith("\n")
    with pytest.raises(ContextError, match="too small"):
        pack_context(searcher, ContextRequest("order state transitions", budget=5))


def test_formats_parse(searcher) -> None:  # noqa: ANN001
    xml_pack = pack_context(searcher, ContextRequest("refund a paid order", budget=1500,
                                                     format="xml"))
    root = ET.fromstring(xml_pack.text)
    assert root.tag == "context" and root.find("block") is not None
    json_pack = pack_context(searcher, ContextRequest("refund a paid order", budget=1500,
                                                      format="json"))
    doc = json.loads(json_pack.text)
    assert doc["blocks"][0]["path"] and "text" in doc["blocks"][0]
    assert_well_formed(json_pack)


def test_merge_and_trim_rules() -> None:
    source = "".join(f"line {i}\n" for i in range(1, 21))
    blocks = [Block("a.py", 5, 8, "", reasons=["x"]), Block("b.py", 1, 2, "", reasons=["y"]),
              Block("a.py", 9, 12, "", reasons=["z"])]
    merged = merge_blocks(blocks, {"a.py": source, "b.py": source})
    assert [(b.path, b.start_line, b.end_line) for b in merged] == [("a.py", 5, 12),
                                                                     ("b.py", 1, 2)]
    assert merged[0].reasons == ["x", "z"] and merged[0].text.startswith("line 5\n")
    twins = near_duplicates([Block("a", 1, 2, "x = 1\n", content_hash="h"),
                             Block("b", 1, 2, "x = 1\n", content_hash="h")])
    assert twins == {1: 0}
    head = signature_and_docstring(RETRY.strip() + "\n")
    assert head is not None
    assert head.startswith("import time") or "def retry_with_backoff" in head


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args, "--repo", str(repo)],
                          capture_output=True, text=True)


def test_context_command(repo: Path) -> None:
    done = cli(repo, "context", "--json", "--budget", "1200", "how are refunds made")
    assert done.returncode == 0, done.stderr
    pack = json.loads(done.stdout)
    assert pack["tokens"] <= 1200 and pack["blocks"] and pack["encoding"]
    outside = cli(repo, "context", "--selection", "/etc/passwd:1-2", "x")
    assert outside.returncode == 2 and "outside the repository" in outside.stderr
    small = cli(repo, "context", "--budget", "3", "x")
    assert small.returncode == 2 and "too small" in small.stderr


HEADER = '"""Part of the lexers package.\n\nCopyright the lexer authors.\nLicensed under the ' \
    'BSD license: see LICENSE for the terms.\n"""\n\n'
LANGUAGES = ("ada", "bash", "cobol", "dart", "elm", "fortran", "golang", "haskell")
LEXERS = {f"lexers/{name}.py": HEADER + "import re\n\n" + "".join(
    f"{name.upper()}_WORD_{k} = re.compile(r'{name}{k}')  # {name} reserved word {k}\n"
    for k in range(30)) + f'''

class {name.title()}Lexer:
    """Tokens of {name}: keywords, strings and comments."""

    def tokens(self, text):
''' + "".join(f"        {name}_rule_{k} = text.count('{name}{k}') * {k}\n" for k in range(30))
    + "        return text\n" for name in LANGUAGES}


def test_signatures_fill_the_last_quarter_and_equal_heads_go_in_once(
        tmp_path: Path, index_root: Path) -> None:
    repo = make_repo(tmp_path / "lexers", LEXERS)
    ws = Workspace.open(repo)
    try:
        searcher = ws.semantic(None)
        searcher.embed()
        pack = pack_context(searcher, ContextRequest("keywords of a language lexer",
                                                     budget=1500))
        assert_well_formed(pack)  # the files' identical headers are never packed twice
        assert any(b.trimmed for b in pack.blocks)  # candidates past the whole share: heads
        assert len({b.path for b in pack.blocks}) > 2
    finally:
        ws.close()
