"""Per-language expectations: chunk kinds, qualified names and exact line ranges."""

from __future__ import annotations

import pytest
from _chunking_helpers import assert_partition, read_fixture, summary

from indexer.chunking import chunk_file, detect_language, symbols_for_file

# fixture -> (language, chunks expected at the default sizes, as (kind, qualified, start, end))
DEFAULT_EXPECTATIONS = {
    "inventory.py": ("python", [
        ("module", "", 1, 16),
        ("class", "StockStatus", 19, 24),
        ("class", "Item", 27, 41),  # decorator included
        ("class", "Inventory", 44, 81),
        ("function", "reorder_requests", 84, 90),
        ("module", "", 93, 95),
    ]),
    "http_client.js": ("javascript", [
        ("module", "", 1, 7),
        ("function", "sleep", 9, 13),  # arrow function with its JSDoc
        ("class", "HttpClient", 15, 67),
        ("function", "buildQuery", 69, 73),
        ("module", "", 75, 75),
    ]),
    "store.ts": ("typescript", [
        ("module", "", 1, 2),
        ("enum", "StoreEvent", 4, 14),  # tiny enum + interface merged
        ("type", "Predicate", 16, 16),
        ("class", "Store", 18, 54),
        ("function", "newestFirst", 56, 61),
        ("function", "Internal.checksum", 63, 71),  # namespace header joins its member
    ]),
    "TodoList.tsx": ("tsx", [
        ("module", "", 1, 1),
        ("interface", "Todo", 3, 14),
        ("function", "TodoRow", 16, 24),
        ("function", "TodoList", 26, 61),
        ("module", "", 63, 63),
    ]),
    "server.go": ("go", [
        ("module", "", 1, 15),
        ("struct", "Entry", 17, 27),
        ("struct", "MemoryStore", 29, 38),
        ("method", "MemoryStore.Get", 40, 49),
        ("method", "MemoryStore.Put", 51, 59),
        ("struct", "Server", 61, 65),
        ("function", "NewServer", 67, 72),
        ("method", "Server.handleGet", 74, 83),
        ("method", "Server.ServeHTTP", 85, 88),
    ]),
    "cache.rs": ("rust", [
        ("module", "", 1, 5),
        ("enum", "CacheError", 7, 14),  # doc comment and #[derive] attached
        ("impl", "CacheError", 16, 23),
        ("trait", "Weighted", 25, 35),
        ("impl", "LruCache", 37, 81),
        ("macro", "square", 83, 87),
        ("function", "tests.evicts_least_recently_used", 89, 102),
    ]),
    "OrderService.java": ("java", [
        ("module", "", 1, 6),
        ("class", "OrderService", 8, 82),
    ]),
    "ring_buffer.c": ("c", [
        ("module", "", 1, 8),
        ("enum", "rb_status", 10, 27),
        ("function", "rb_create", 29, 45),
        ("function", "rb_destroy", 47, 53),
        ("function", "rb_push", 55, 64),
        ("function", "rb_pop", 66, 74),
        ("function", "rb_drain", 76, 82),
    ]),
    "matrix.cpp": ("cpp", [
        ("module", "", 1, 5),
        ("enum", "linalg.Norm", 7, 9),
        ("class", "linalg.Matrix", 11, 39),
        ("method", "linalg.Matrix.operator*", 41, 51),
        ("method", "linalg.Matrix.norm", 53, 64),
        ("function", "linalg.clamp", 66, 77),
    ]),
    "Repository.cs": ("csharp", [
        ("module", "", 1, 4),
        ("interface", "Shop.Data.IEntity", 6, 19),
        ("record", "Shop.Data.Product", 21, 21),
        ("class", "Shop.Data.InMemoryRepository", 23, 67),
        ("struct", "Shop.Data.PriceRange", 69, 76),
    ]),
    "account.rb": ("ruby", [
        ("module", "", 1, 4),
        ("class", "Banking.InsufficientFunds", 6, 8),
        ("function", "Banking.Auditable.audit", 10, 19),
        ("class", "Banking.Account", 21, 62),
    ]),
    "UserController.php": ("php", [
        ("module", "", 1, 9),
        ("interface", "Responder", 11, 20),
        ("class", "UserController", 22, 61),
        ("function", "slugify", 63, 67),
    ]),
    "TaskScheduler.kt": ("kotlin", [
        ("module", "", 1, 5),
        ("enum", "Priority", 7, 14),
        ("class", "ScheduledTask", 16, 20),
        ("class", "TaskScheduler", 22, 54),
        ("object", "NoopTask", 56, 65),
    ]),
    "NetworkClient.swift": ("swift", [
        ("module", "", 1, 1),
        ("enum", "NetworkError", 3, 13),
        ("struct", "User", 15, 18),
        ("class", "NetworkClient", 20, 50),
        ("extension", "NetworkClient", 52, 60),
        ("function", "makeDefaultClient", 62, 65),
    ]),
    "Graph.scala": ("scala", [
        ("module", "", 1, 3),
        ("class", "Edge", 5, 12),
        ("trait", "Weighted", 14, 16),
        ("class", "Graph", 18, 57),
        ("object", "Graph", 59, 62),
    ]),
    "deploy.sh": ("bash", [
        ("module", "", 1, 7),
        ("function", "log", 9, 16),
        ("function", "check_requirements", 18, 24),
        ("function", "build_release", 26, 34),
        ("function", "switch_current", 36, 39),
        ("module", "", 41, 51),
    ]),
    "schema.sql": ("sql", [
        ("module", "", 1, 1),
        ("table", "authors", 3, 7),
        ("table", "books", 9, 15),
        ("table", "loans", 17, 23),
        ("index", "loans_open_idx", 25, 25),
        ("view", "books_on_loan", 27, 33),
        ("function", "overdue_loans", 35, 39),
        ("module", "", 41, 49),
    ]),
    "index.html": ("html", [
        ("element", "html.head", 1, 10),  # <!DOCTYPE> and <html> join the head
        ("element", "html.body.header", 11, 18),
        ("element", "html.body.main", 20, 41),
        ("script", "html.body.script", 43, 55),
    ]),
    "styles.css": ("css", [
        ("module", "", 1, 2),
        ("rule", ":root", 4, 22),
        ("rule", ".stock-table", 24, 38),
        ("rule", 'button[type="submit"]', 40, 56),
        ("rule", "pulse", 58, 61),
    ]),
    "README.md": ("markdown", [
        ("section", "Inventory service.Installation", 1, 14),
        ("section", "Inventory service.Configuration", 16, 24),
        ("section", "Inventory service.Configuration.Environment variables", 26, 29),
        ("section", "Inventory service.Usage", 31, 43),
        ("section", "Inventory service.License", 45, 47),
    ]),
    "package.json": ("json", [
        ("key", "name", 1, 6),
        ("key", "scripts", 7, 16),
        ("key", "devDependencies", 17, 25),
        ("key", "jest", 26, 33),
    ]),
    "config.yaml": ("yaml", [
        ("key", "service", 1, 17),
        ("key", "database", 19, 32),
    ]),
    "pyproject.toml": ("toml", [
        ("table", "build-system", 1, 3),
        ("table", "project", 5, 14),
        ("table", "project.optional-dependencies", 16, 24),
        ("table", "tool.ruff.lint", 26, 35),
        ("table", "tool.inventory.suppliers", 37, 39),
    ]),
    "manage": ("python", [  # no extension: detected from the shebang
        ("module", "", 1, 6),
        ("function", "cmd_export", 9, 13),
        ("function", "cmd_check", 16, 24),
        ("function", "build_parser", 27, 36),
        ("function", "main", 39, 41),
        ("module", "", 44, 45),
    ]),
}


@pytest.mark.parametrize("name", sorted(DEFAULT_EXPECTATIONS))
def test_default_chunks(name: str) -> None:
    language, expected = DEFAULT_EXPECTATIONS[name]
    data = read_fixture(name)
    assert detect_language(name, data) == language
    chunks = chunk_file(name, data)
    assert summary(chunks) == expected
    assert all(c.language == language for c in chunks)
    assert_partition(data, chunks)


# Large definitions split at their members (small max_tokens forces it).
SPLIT_EXPECTATIONS = {
    "inventory.py": [
        ("class", "Inventory", 44, 48),  # header: signature and docstring
        ("method", "Inventory.__init__", 50, 53),
        ("method", "Inventory.add", 55, 62),
        ("method", "Inventory.remove", 64, 69),
        ("method", "Inventory.low_stock", 71, 78),
        ("method", "Inventory.__len__", 80, 81),
    ],
    "http_client.js": [
        ("class", "HttpClient", 15, 18),
        ("method", "HttpClient.constructor", 19, 27),
        ("method", "HttpClient.#send", 48, 62),
        ("method", "HttpClient.fromEnv", 64, 67),  # the class's closing brace sticks to it
    ],
    "OrderService.java": [
        ("class", "OrderService", 8, 11),
        ("enum", "OrderService.Status", 13, 26),
        ("class", "OrderService.Order", 28, 45),
        ("constructor", "OrderService.OrderService", 47, 51),  # a lone field merges in
        ("method", "OrderService.placeOrder", 53, 70),
        ("method", "OrderService.cancel", 72, 82),
    ],
    "cache.rs": [
        ("impl", "LruCache", 37, 37),
        ("method", "LruCache.new", 38, 44),
        ("method", "LruCache.evict", 67, 76),
    ],
    "UserController.php": [
        ("class", "UserController", 22, 27),
        ("method", "UserController.register", 33, 45),
    ],
    "Graph.scala": [
        ("class", "Graph", 18, 22),
        ("method", "Graph.walk", 29, 43),
        ("method", "Graph.shortestPath", 45, 57),
    ],
    "account.rb": [
        ("class", "Banking.Account", 21, 25),
        ("method", "Banking.Account.deposit", 32, 39),
    ],
    "TaskScheduler.kt": [
        ("class", "TaskScheduler", 22, 28),
        ("method", "TaskScheduler.runDue", 35, 46),
    ],
    "Repository.cs": [
        ("class", "Shop.Data.InMemoryRepository", 23, 28),
        ("method", "Shop.Data.InMemoryRepository.RemoveAllAsync", 57, 67),
    ],
    "matrix.cpp": [
        ("class", "linalg.Matrix", 11, 13),
        ("method", "linalg.Matrix.Matrix", 14, 23),
    ],
    "TodoList.tsx": [
        ("function", "TodoList", 26, 40),  # a large function: consecutive statement windows
        ("function", "TodoList", 42, 61),
    ],
}


@pytest.mark.parametrize("name", sorted(SPLIT_EXPECTATIONS))
def test_large_definitions_split_at_members(name: str) -> None:
    data = read_fixture(name)
    chunks = chunk_file(name, data, max_tokens=120)
    assert_partition(data, chunks)
    got = summary(chunks)
    for item in SPLIT_EXPECTATIONS[name]:
        assert item in got, f"{item} not in {got}"
    assert all(c.tokens_estimate <= 120 * 1.5 for c in chunks if c.end_line > c.start_line)


def test_member_chunks_carry_the_class_header_as_context() -> None:
    data = read_fixture("inventory.py")
    chunks = {c.qualified_name: c for c in chunk_file("inventory.py", data, max_tokens=120)}
    add = chunks["Inventory.add"]
    assert add.context == "class Inventory:"
    assert add.breadcrumb == ["Inventory"]
    assert add.kind == "method"
    assert add.signature == "def add(self, item: Item) -> None"
    assert add.docstring == "Add an item, merging quantities when the SKU already exists."
    assert add.title == "inventory.py › Inventory › add(self, item: Item)"
    assert add.defines == ["add"]
    assert "existing" in add.references and "def" not in add.references
    header = chunks["Inventory"]
    assert header.context == ""
    assert header.docstring.startswith("A collection of items indexed by SKU.")
    java = {c.qualified_name: c for c in
            chunk_file("O.java", read_fixture("OrderService.java"), max_tokens=120)}
    assert java["OrderService.placeOrder"].context == "public class OrderService {"
    assert java["OrderService.placeOrder"].docstring.startswith(
        "Place a new order with the given line amounts.")


def test_chunk_metadata_python() -> None:
    data = read_fixture("inventory.py")
    chunks = chunk_file("pkg/inventory.py", data)
    module = chunks[0]
    assert module.docstring.startswith("Inventory tracking for a small warehouse service.")
    assert module.title == "pkg/inventory.py"
    inventory = chunks[3]
    assert inventory.name == "Inventory"
    assert inventory.defines == ["Inventory", "__init__", "add", "remove", "low_stock",
                                 "urgency", "__len__"]
    assert inventory.text.startswith("class Inventory:")
    assert inventory.start_byte == data.index(b"class Inventory:")
    item = chunks[2]
    assert item.text.startswith("@dataclass\nclass Item:")
    assert item.signature == "@dataclass class Item"
    d = item.to_dict()
    assert d["qualified_name"] == "Item" and d["start_line"] == 27
    assert item.content_hash == chunk_file("other.py", data)[2].content_hash


def test_leading_comments_become_docstrings() -> None:
    go = {c.qualified_name: c for c in chunk_file("server.go", read_fixture("server.go"))}
    assert go["MemoryStore.Get"].docstring == "Get returns the entry for key unless it has expired."
    assert go["MemoryStore.Get"].start_line == 40  # the comment line belongs to the method
    rust = {(c.kind, c.qualified_name): c for c in
            chunk_file("cache.rs", read_fixture("cache.rs"))}
    assert rust["enum", "CacheError"].docstring == "Errors returned by cache operations."
    js = {c.qualified_name: c for c in chunk_file("h.js", read_fixture("http_client.js"))}
    assert js["sleep"].docstring.startswith("Sleep for the given number of milliseconds.")


def test_markdown_keeps_code_blocks_and_tables_whole() -> None:
    data = read_fixture("README.md")
    text = data.decode()
    for c in chunk_file("README.md", data, max_tokens=30, min_tokens=0):
        assert c.text.count("```") % 2 == 0, c.text
    table_start = text.splitlines().index("| Setting           | Default     | Description"
                                          "                       |") + 1
    chunks = chunk_file("README.md", data, max_tokens=30, min_tokens=0)
    holder = [c for c in chunks if c.start_line <= table_start <= c.end_line][0]
    assert holder.end_line >= table_start + 4  # header, delimiter and three rows together
    sections = chunk_file("README.md", data)
    assert sections[1].breadcrumb == ["Inventory service"]
    assert sections[1].title == "README.md › Inventory service › Configuration"


MIN_SYMBOLS = {
    "inventory.py": {"StockStatus": 5, "Item": 5, "Item.status": 6, "Inventory.add": 6,
                     "Inventory.low_stock.urgency": 12, "reorder_requests": 12},
    "http_client.js": {"HttpClient": 5, "HttpClient.request": 6, "sleep": 12},
    "store.ts": {"StoreEvent": 10, "Entity": 11, "Predicate": 26, "Store.put": 6,
                 "Internal": 3, "Internal.checksum": 12, "isRecent": 12},
    "TodoList.tsx": {"Todo": 11, "TodoRow": 12, "TodoList": 12},
    "server.go": {"Entry": 23, "Store": 11, "MemoryStore.Get": 6, "NewServer": 12},
    "cache.rs": {"CacheError": 10, "Weighted": 11, "LruCache": 23, "LruCache.evict": 6,
                 "tests": 2, "square": 12},
    "OrderService.java": {"OrderService": 5, "OrderService.Status": 10,
                          "OrderService.OrderRepository": 11,
                          "OrderService.Order.total": 6, "OrderService.OrderService": 9},
    "ring_buffer.c": {"rb_status": 10, "ring_buffer": 23, "next_index": 12, "rb_drain": 12},
    "matrix.cpp": {"linalg": 3, "linalg.Norm": 10, "linalg.Matrix": 5,
                   "linalg.Matrix.norm": 6, "linalg.clamp": 12, "linalg.Shape": 23},
    "Repository.cs": {"Shop.Data": 3, "Shop.Data.IEntity": 11,
                      "Shop.Data.InMemoryRepository.Upsert": 6,
                      "Shop.Data.InMemoryRepository.Count": 7, "Shop.Data.PriceRange": 23},
    "account.rb": {"Banking": 2, "Banking.Account": 5, "Banking.Account.open_for": 6},
    "UserController.php": {"Responder": 11, "Role": 10, "UserController.register": 6,
                           "slugify": 12},
    "TaskScheduler.kt": {"Priority": 10, "Task": 11, "TaskScheduler.schedule": 6,
                         "NoopTask": 5, "formatDuration": 12},
    "NetworkClient.swift": {"NetworkError": 10, "Transport": 11, "User": 23,
                            "NetworkClient.get": 6, "NetworkClient.init": 9},
    "Graph.scala": {"Edge": 5, "Traversal": 11, "Graph.walk": 6,
                    "Graph.shortestPath.relax": 12, "Graph.fromPairs": 6},
    "deploy.sh": {"log": 12, "switch_current": 12},
    "schema.sql": {"authors": 19, "books_on_loan": 19, "overdue_loans": 12},
    "styles.css": {".stock-table": 5, "pulse": 5},
    "README.md": {"Inventory service": 15, "Inventory service.Usage": 15},
    "package.json": {"scripts": 20, "scripts.build": 20, "jest.coverageThreshold.global": 20},
    "config.yaml": {"api": 20, "api.cors.allowed_origins": 20},
    "pyproject.toml": {"project": 19, "project.name": 20},
}


@pytest.mark.parametrize("name", sorted(MIN_SYMBOLS))
def test_symbols(name: str) -> None:
    data = read_fixture(name)
    symbols: dict[str, list] = {}
    for s in symbols_for_file(name, data):
        symbols.setdefault(s.qualified_name, []).append(s)
    for qualified, kind in MIN_SYMBOLS[name].items():
        assert qualified in symbols, f"{qualified} not in {sorted(symbols)}"
        matching = [s for s in symbols[qualified] if s.kind == kind]
        assert matching, (qualified, [(s.kind, s.definition_kind) for s in symbols[qualified]])
        sym = matching[0]
        # the name range points at the name in the original bytes
        assert data[sym.name_start_byte : sym.name_end_byte].decode().strip("\"'") == sym.name \
            or name in ("README.md", "styles.css")
        assert sym.start_byte <= sym.name_start_byte < sym.name_end_byte <= sym.end_byte
        assert sym.start_line <= sym.name_start_line <= sym.end_line
        assert sym.container_name == ".".join(qualified.split(".")[:-1]) or name in (
            "README.md", "styles.css", "Repository.cs", "package.json", "config.yaml",
            "pyproject.toml")


def test_symbol_ranges_exact() -> None:
    data = read_fixture("inventory.py")
    add = next(s for s in symbols_for_file("inventory.py", data) if s.qualified_name ==
               "Inventory.add")
    assert (add.name_start_line, add.name_start_column, add.name_end_column) == (55, 8, 11)
    assert (add.start_line, add.end_line) == (55, 62)
    assert add.container_name == "Inventory"
    assert add.signature == "def add(self, item: Item) -> None"
    get = next(s for s in symbols_for_file("server.go", read_fixture("server.go"))
               if s.name == "Get")
    assert (get.container_name, get.kind, get.name_start_line) == ("MemoryStore", 6, 41)


def test_broken_syntax_still_chunks() -> None:
    data = read_fixture("broken_syntax.py")
    chunks = chunk_file("broken_syntax.py", data)
    assert_partition(data, chunks)
    got = summary(chunks)
    assert ("function", "load_settings", 7, 14) in got
    assert any(kind == "class" and name == "Loader" for kind, name, _, _ in got)
    names = {s.qualified_name for s in symbols_for_file("broken_syntax.py", data)}
    assert {"load_settings", "Loader", "Loader.__init__"} <= names
