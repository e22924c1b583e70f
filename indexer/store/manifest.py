"""A snapshot's manifest: every file of one commit (or of the working tree) with its blob.

Immutable once written; stored as one small binary file (header, fixed-width columns, then
NUL-separated paths) that loads in a few milliseconds without third-party imports. Blob
locations are copied in (blobs never move), so a search needs no catalog lookups.
"""

from __future__ import annotations

import json
import os
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = b"CLMANIFEST1\n"


@dataclass(slots=True)
class Manifest:
    paths: list[str] = field(default_factory=list)  # sorted
    blob_nos: array = field(default_factory=lambda: array("q"))
    packs: array = field(default_factory=lambda: array("i"))
    offsets: array = field(default_factory=lambda: array("q"))
    lengths: array = field(default_factory=lambda: array("q"))  # searchable bytes
    sizes: array = field(default_factory=lambda: array("q"))  # original file size
    kinds: array = field(default_factory=lambda: array("b"))  # BlobKind per entry

    def __len__(self) -> int:
        return len(self.paths)

    def append(self, path: str, blob_no: int, pack: int, offset: int, length: int, size: int,
               kind: int) -> None:
        self.paths.append(path)
        self.blob_nos.append(blob_no)
        self.packs.append(pack)
        self.offsets.append(offset)
        self.lengths.append(length)
        self.sizes.append(size)
        self.kinds.append(kind)

    def columns(self) -> tuple[array, ...]:
        return (self.blob_nos, self.packs, self.offsets, self.lengths, self.sizes, self.kinds)

    def write(self, path: Path) -> None:
        """Write atomically: a temporary file, fsync, then rename over `path`."""
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        header = {"count": len(self.paths), "byteorder": sys.byteorder,
                  "columns": [a.typecode for a in self.columns()]}
        with open(tmp, "wb") as f:
            f.write(MAGIC)
            f.write(json.dumps(header).encode() + b"\n")
            for column in self.columns():
                column.tofile(f)
            f.write(b"\0".join(p.encode("utf-8", "surrogateescape") for p in self.paths))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        data = path.read_bytes()
        if not data.startswith(MAGIC):
            raise ValueError(f"not a codeloupe manifest: {path}")
        end = data.index(b"\n", len(MAGIC))
        header = json.loads(data[len(MAGIC):end])
        count = header["count"]
        pos = end + 1
        columns = []
        for typecode in header["columns"]:
            column = array(typecode)
            nbytes = column.itemsize * count
            column.frombytes(data[pos:pos + nbytes])
            if header["byteorder"] != sys.byteorder:
                column.byteswap()
            columns.append(column)
            pos += nbytes
        raw_paths = data[pos:]
        paths = raw_paths.decode("utf-8", "surrogateescape").split("\0") if count else []
        if len(paths) != count:
            raise ValueError(f"corrupt manifest (path count) {path}")
        return cls(paths, *columns)
