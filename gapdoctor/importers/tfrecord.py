"""The TFRecord framing of TensorBoard event files, with its checksums, in pure Python.

Each record is ``uint64 length, uint32 masked_crc32c(length), data, uint32
masked_crc32c(data)`` (little-endian). The length checksum is checked for every record: a
wrong one means the framing is lost, so the file is corrupt from there on. The data
checksum is checked by :func:`data_ok` on demand, for the records whose values are used
(pure-Python CRC costs about a microsecond per byte; scalar events are under 100 bytes,
while histogram and image events, which are skipped, can be megabytes).
"""

from __future__ import annotations

import struct
from pathlib import Path

from gapdoctor.errors import RecordError


def _table() -> list[int]:
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli, reflected
        table.append(crc)
    return table


_TABLE = _table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The masked CRC TFRecord stores: rotate right by 15 bits, add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


class Record:
    """One framed record: its payload and where its data checksum sits in the file."""

    __slots__ = ("data", "crc", "offset")

    def __init__(self, data: bytes, crc: int, offset: int) -> None:
        self.data, self.crc, self.offset = data, crc, offset

    def data_ok(self) -> bool:
        """Whether the payload matches its stored checksum."""
        return masked_crc32c(self.data) == self.crc


def read_records(path: Path, notes: list[str]) -> list[Record]:
    """The records of a TFRecord file; a torn tail is noted, a broken frame raises.

    Raises:
        RecordError: a record's length checksum does not match (the file is corrupt).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None
    out, pos = [], 0
    while pos < len(data):
        if pos + 12 > len(data):
            notes.append(f"{path.name}: ends in a partial record (still being written?)")
            break
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack_from("<I", data, pos + 8)
        if masked_crc32c(header) != header_crc:
            raise RecordError(f"{path}: corrupt event file (record {len(out) + 1}, at byte "
                              f"{pos}: its length fails the checksum)")
        end = pos + 12 + length + 4
        if end > len(data):
            notes.append(f"{path.name}: ends in a partial record (still being written?)")
            break
        (crc,) = struct.unpack_from("<I", data, end - 4)
        out.append(Record(data[pos + 12:end - 4], crc, pos))
        pos = end
    return out
