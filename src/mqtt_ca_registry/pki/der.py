"""A few facts read straight from a certificate's DER, where that is cheaper or must come first.

Only the head of ``TBSCertificate`` is walked (version, serial); anything unexpected answers
``None`` and the caller falls back to cryptography.
"""

from __future__ import annotations

_SEQUENCE = 0x30
_INTEGER = 0x02
_VERSION = 0xA0  # [0] EXPLICIT, absent in v1 certificates


def read_header(der: bytes, pos: int) -> tuple[int, int, int] | None:
    """Read one DER tag and length at ``pos``: (tag, content start, content end), or None."""
    if pos + 2 > len(der):
        return None
    tag, first = der[pos], der[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(der):
            return None
        length = int.from_bytes(der[pos : pos + count], "big")
        pos += count
    if pos + length > len(der):
        return None
    return tag, pos, pos + length


def _serial_header(der: bytes) -> tuple[int, int, int] | None:
    """The header of the serial INTEGER (the first field after the optional version)."""
    outer = read_header(der, 0)
    if outer is None or outer[0] != _SEQUENCE:
        return None
    tbs = read_header(der, outer[1])
    if tbs is None or tbs[0] != _SEQUENCE:
        return None
    item = read_header(der, tbs[1])
    if item is not None and item[0] == _VERSION:
        item = read_header(der, item[2])
    if item is None or item[0] != _INTEGER:
        return None
    return item


def serial_sign(der: bytes) -> int | None:
    """Sign of the serial (-1, 0, 1) read straight from the DER; None if the layout is odd."""
    item = _serial_header(der)
    if item is None or item[2] == item[1]:
        return None
    content = der[item[1] : item[2]]
    if content[0] & 0x80:
        return -1
    return 0 if not any(content) else 1
