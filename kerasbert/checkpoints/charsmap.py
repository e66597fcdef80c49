"""Build a SentencePiece-style `precompiled_charsmap` from a codepoint map.

`tokenizers.normalizers.Precompiled` is the only serialisable normaliser that
applies an arbitrary per-character rewrite table in one pass (thousands of
`Replace` normalisers would be far too slow). Its input is SentencePiece's
binary format:

    u32 trie byte size | darts-clone double-array trie (u32 units) | strings

The trie maps the UTF-8 bytes of a key to an offset into the string blob of
NUL-terminated replacements. This module writes that format; keys here are
single codepoints, values their replacement (possibly empty = delete).
"""

import struct

import numpy as np

# darts-clone unit layout (as read by spm_precompiled / tokenizers):
#   label  = unit & (1<<31 | 0xFF); has_leaf = bit 8; offset = unit >> 10
#   (bit 9 clear: no extra shift); a value unit has bit 31 set.
_HAS_LEAF = 1 << 8
_VALUE_FLAG = 1 << 31
_MAX_OFFSET = 1 << 21  # offsets above need the bit-9 shifted encoding


def _build_trie(keys_values):
    """Double array for {bytes key: int value}; returns uint32 units."""
    # Trie as nested dicts; the value of a node lives under the key None.
    root = {}
    for key, value in keys_values:
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value

    capacity = 1 << 14
    units = np.zeros(capacity, dtype=np.uint64)
    used = np.zeros(capacity, dtype=bool)  # positions taken
    base_used = np.zeros(capacity, dtype=bool)  # bases taken (must be unique)
    used[0] = True
    search_from = 1

    # Depth-first: place a node's children, then descend into them.
    stack = [(0, root)]
    while stack:
        pos, node = stack.pop()
        labels = sorted(k for k in node if k is not None)
        need = np.asarray(([0] if None in node else []) + labels, dtype=np.int64)
        while True:
            # Vectorised search for the first base whose slots are all free.
            bases = np.arange(search_from, capacity - 256, dtype=np.int64)
            ok = ~base_used[bases]
            for c in need:
                ok &= ~used[bases ^ c]
            hits = np.flatnonzero(ok)
            if hits.size:
                base = int(bases[hits[0]])
                break
            units = np.concatenate([units, np.zeros(capacity, dtype=np.uint64)])
            used = np.concatenate([used, np.zeros(capacity, dtype=bool)])
            base_used = np.concatenate([base_used, np.zeros(capacity, dtype=bool)])
            capacity *= 2
        base_used[base] = True
        offset = pos ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("normalisation map too large for the precompiled trie")
        units[pos] = (int(units[pos]) & 0xFF) | (offset << 10) | (_HAS_LEAF if None in node else 0)
        if None in node:
            used[base] = True
            units[base] = _VALUE_FLAG | node[None]
        for c in labels:
            used[base ^ c] = True
            units[base ^ c] = c  # label; offset and leaf flag set when visited
            stack.append((base ^ c, node[c]))
        # The low positions fill up first: start later searches past them.
        while search_from < capacity and used[search_from]:
            search_from += 1
    # Trim trailing free units.
    last = int(np.flatnonzero(used)[-1])
    return units[: last + 1].astype(np.uint32)


def build_precompiled_charsmap(mapping):
    """`mapping`: {codepoint: [replacement codepoints]} -> bytes for `Precompiled`."""
    blob = bytearray()
    offsets = {}
    items = []
    for cp in sorted(mapping):
        text = "".join(chr(c) for c in mapping[cp]).encode("utf-8")
        if text not in offsets:
            offsets[text] = len(blob)
            blob += text + b"\0"
        items.append((chr(cp).encode("utf-8"), offsets[text]))
    units = _build_trie(items)
    trie = units.astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def lookup(charsmap, key):
    """Read back one key the way the Rust reader does (for tests/debugging)."""
    size = struct.unpack_from("<I", charsmap, 0)[0]
    units = np.frombuffer(charsmap, dtype="<u4", count=size // 4, offset=4)
    strings = charsmap[4 + size :]

    def offset(unit):
        return int((unit >> 10) << ((unit & (1 << 9)) >> 6))

    pos = offset(units[0])
    result = None
    for c in key:
        pos ^= c
        unit = int(units[pos])
        if unit & (_VALUE_FLAG | 0xFF) != c:
            return result
        pos ^= offset(unit)
        if unit & _HAS_LEAF:
            start = int(units[pos]) & (_VALUE_FLAG - 1)
            end = strings.index(b"\0", start)
            if result is None:  # the reader uses the shortest matching prefix
                result = strings[start:end].decode("utf-8")
    return result
