"""Append-only pack files holding the searchable bytes of every stored blob.

Each blob is written once, followed by a newline, so a regex scan over a whole pack can never
produce a match spanning two blobs (matches never cross a newline). Readers memory-map packs;
a crash mid-append leaves only unreferenced bytes at a pack's tail.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

SEPARATOR = b"\n"


def pack_path(directory: Path, pack_no: int) -> Path:
    return directory / f"pack-{pack_no:06d}.bin"


def pack_numbers(directory: Path) -> list[int]:
    """The numbers of the pack files in `directory`, in order."""
    return sorted(int(p.stem.split("-")[1]) for p in directory.glob("pack-*.bin"))


class PackWriter:
    """Appends to the newest pack. Pack numbers only grow (gc and doctor leave the highest
    number in place), so a stale (pack, offset) can name missing bytes, never other bytes.
    `fresh`: start a new pack after the newest (gc writes compacted blobs there)."""

    def __init__(self, directory: Path, max_pack_bytes: int = 1 << 30,
                 fresh: bool = False) -> None:
        self.directory = directory
        self.max_pack_bytes = max_pack_bytes
        directory.mkdir(parents=True, exist_ok=True)
        existing = pack_numbers(directory)
        self.pack_no = (existing[-1] if existing else 0) + 1 if fresh else (
            existing[-1] if existing else 1)
        self._open()

    def _open(self) -> None:
        self.file = open(pack_path(self.directory, self.pack_no), "ab")  # noqa: SIM115
        self.offset = self.file.seek(0, os.SEEK_END)

    def append(self, data: bytes) -> tuple[int, int]:
        """Store `data`; return (pack number, offset)."""
        if self.offset and self.offset + len(data) + 1 > self.max_pack_bytes:
            self.sync()
            self.file.close()
            self.pack_no += 1
            self._open()
        where = (self.pack_no, self.offset)
        self.file.write(data)
        self.file.write(SEPARATOR)
        self.offset += len(data) + 1
        return where

    def sync(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.sync()
        self.file.close()


class PackReader:
    """Memory maps of the pack files, opened on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._maps: dict[int, mmap.mmap] = {}

    def view(self, pack_no: int, end: int = 0) -> mmap.mmap:
        """The pack's bytes, mapped at least up to `end` (a pack grows while we hold it)."""
        mapped = self._maps.get(pack_no)
        if mapped is None or len(mapped) < end:
            with open(pack_path(self.directory, pack_no), "rb") as f:
                mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self._maps[pack_no] = mapped
        return mapped

    def read(self, pack_no: int, offset: int, length: int) -> bytes:
        return self.view(pack_no, offset + length)[offset:offset + length]

    def close(self) -> None:
        for mapped in self._maps.values():
            mapped.close()
        self._maps.clear()
