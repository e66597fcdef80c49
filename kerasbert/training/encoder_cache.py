"""Compute the frozen part of an encoder once, and train the rest from disk.

A frozen encoder (or the frozen lower blocks under `mode="top_k"`) runs in
inference mode, so its hidden states for a text never change. They are
computed once per text, stored as float16 on disk (real tokens only, no
padding), memory-mapped, and read back every epoch; the trainable top
(open blocks, mix, pooling, head) trains on them.

    plan = cache_plan(model)                  # which layers to keep, where to split
    store = build_or_load_cache(model, tokenizer, texts, max_length, plan, checkpoint)
    trainer = model_on_cache(model, plan)     # shares every weight with `model`
    dataset = cached_dataset(store, labels, task, batch_size, ...)
    trainer.fit(dataset)                      # `model` is now trained, and saved as usual

Layout of a cache folder (published atomically, so a killed build leaves
nothing behind and a finished one is never half-written):
`.kerasbert-encoder-cache` (the marker, written first), `states.npy`
float16 `(tokens, layers kept, hidden)`, `row_lengths.npy` int64 `(rows,)`,
`meta.json` (the key's parts, written last). `cache list|clear` touch only
folders with the marker (or, from before it, exactly the store's files), so
`KERASBERT_ENCODER_CACHE` may point at a folder that holds other things.
"""

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil

import numpy as np

from tqdm.auto import tqdm

from kerasbert.checkpoints import cache_root
from kerasbert.data.encoding import default_bucket_boundaries, encode_labels, encode_texts, pad_id, pad_token_ids, \
    row_slices
from kerasbert.errors import CacheTooLarge, OutputError
from kerasbert.training.roads import road_of
from kerasbert.utils.io import atomic_directory, disk_bytes

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1
STATES_FILE = "states.npy"
LENGTHS_FILE = "row_lengths.npy"
META_FILE = "meta.json"
MARKER_FILE = ".kerasbert-encoder-cache"  # in every folder a build makes, the `.partial` one included
MARKER_TEXT = "a kerasbert encoder-state cache folder: computed states, safe to delete\n"
STORE_FILES = frozenset({STATES_FILE, LENGTHS_FILE, META_FILE})
# `atomic_directory`'s folders for KEY: the build (`.KEY.XXXX.partial`) and the one it replaces (`.old`).
_BUILD_FOLDER = re.compile(r"^\.(?P<key>[0-9a-f]+)\..+\.partial(\.old)?$")
DISK_MARGIN_BYTES = 1 << 30  # leave 1 GiB free


@dataclasses.dataclass(frozen=True)
class CachePlan:
    """Which hidden states to store, and where the trainable top starts.

    start: index of the lowest block that trains (`num_layers` for a frozen
        encoder); `hidden_states[start]` is its input.
    stored: sorted indices into the L+1 hidden states kept on disk:
        `start` plus any lower layer the mix reads.
    num_layers, hidden_size: of the encoder.
    """

    start: int
    stored: tuple
    num_layers: int
    hidden_size: int

    def bytes_per_token(self):
        return len(self.stored) * self.hidden_size * 2  # float16


def _mix_layer_indices(model, num_layers):
    """The hidden-state indices (0..L) that the model's mix layer reads."""
    everything = list(range(num_layers + 1))
    try:
        mix = model.get_layer("scalar_mix")
    except ValueError:
        mix = None
    chosen = mix.layer_indices if mix is not None else model.get_layer("layer_selection").layer_indices
    return sorted({everything[i] for i in chosen}) if chosen is not None else everything


def cache_plan(model, encoder_name="encoder"):
    """The `CachePlan` of a rating model, or None where a cache cannot help.

    None for a fully trained encoder (`mode="full"`, or `top_k >= L`), and
    for a `top_k` encoder whose architecture cannot run its top blocks alone.
    """
    encoder = model.get_layer(encoder_name)
    start = encoder.first_trainable_block
    if encoder.runs_in_inference_mode():
        start = encoder.num_layers
    if start <= 0:
        return None
    if start < encoder.num_layers and not encoder.supports_split():
        return None
    needed = _mix_layer_indices(model, encoder.num_layers)
    stored = tuple(sorted({start} | {i for i in needed if i < start})) if start < encoder.num_layers else tuple(needed)
    return CachePlan(start, stored, encoder.num_layers, encoder.hidden_size)


# Keys --------------------------------------------------------------------------


def _checkpoint_stamp(checkpoint):
    """What identifies the checkpoint's weights: the spec, plus file sizes and times for a folder."""
    stamp = {"checkpoint": str(checkpoint)}
    if isinstance(checkpoint, str) and os.path.isdir(checkpoint):
        files = {}
        for name in sorted(os.listdir(checkpoint)):
            path = os.path.join(checkpoint, name)
            if os.path.isfile(path):
                info = os.stat(path)
                files[name] = [info.st_size, int(info.st_mtime)]
        stamp["files"] = files
    return stamp


def cache_key(checkpoint, texts, max_length, plan, policy):
    """A hex digest of everything the stored numbers depend on."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(str(text).encode("utf-8"))
        digest.update(b"\0")
    parts = {
        "format": CACHE_FORMAT,
        "checkpoint": _checkpoint_stamp(checkpoint),
        "texts": digest.hexdigest(),
        "rows": len(texts),
        "max_length": int(max_length),
        "start": plan.start,
        "stored": list(plan.stored),
        "policy": str(policy),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()[:24], parts


def cache_directory():
    """`$KERASBERT_ENCODER_CACHE`, by default `encoder_states/` under the checkpoint cache."""
    root = os.environ.get("KERASBERT_ENCODER_CACHE")
    if not root:
        root = os.path.join(cache_root(), "encoder_states")
    return root


def cache_folder(key):
    """`cache_directory()/KEY`."""
    return os.path.join(cache_directory(), key)


# Housekeeping (`kerasbert cache list|clear`) ----------------------------------------


def _read_meta(folder):
    try:
        with open(os.path.join(folder, META_FILE), encoding="utf-8") as handle:
            meta = json.load(handle)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _is_cache_folder(folder):
    """Whether `folder` (not a link) is one a build made: it carries the marker, or, from before the
    marker, holds nothing but the store's files and is named as a build names it."""
    if os.path.islink(folder) or not os.path.isdir(folder):
        return False
    marker = os.path.join(folder, MARKER_FILE)
    if os.path.isfile(marker) and not os.path.islink(marker):
        return True
    names = set(os.listdir(folder))
    paths = [os.path.join(folder, name) for name in names]
    if not names <= STORE_FILES or not all(os.path.isfile(p) and not os.path.islink(p) for p in paths):
        return False  # anything else in it is not ours: leave the whole folder alone
    name = os.path.basename(folder)
    if _BUILD_FOLDER.match(name):
        return True  # an interrupted build of an older version
    meta = _read_meta(folder) if names == STORE_FILES else None
    return meta is not None and meta.get("key") == name  # a finished cache of an older version


def scan_cache_directory():
    """`(caches, foreign)` in `cache_directory()`.

    caches: every cache folder, newest use first: dicts with `key`,
    `folder`, `bytes`, `last_used` (epoch seconds), `complete`, and the key's
    parts (`rows`, `max_length`, `stored`, `checkpoint`, ...) for complete
    ones. A cache folder without `meta.json` is an interrupted build
    (`complete` False).
    foreign: the other entries, never listed for deletion: dicts with
    `name`, `path` and `kind` ("symlink", "file" or "folder"). A symbolic
    link is never followed, so a link to a cache elsewhere is foreign too.
    """
    root = cache_directory()
    if not os.path.isdir(root):
        return [], []
    entries, foreign = [], []
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not _is_cache_folder(folder):
            kind = "symlink" if os.path.islink(folder) else "folder" if os.path.isdir(folder) else "file"
            foreign.append({"name": name, "path": folder, "kind": kind})
            continue
        entry = {"key": name, "folder": folder, "bytes": disk_bytes(folder), "complete": False,
                 "last_used": os.path.getmtime(folder)}
        meta = _read_meta(folder) if os.path.isfile(os.path.join(folder, META_FILE)) else None
        if meta is not None:
            entry.update({k: v for k, v in meta.items() if k not in entry})
            entry["complete"] = True
            entry["last_used"] = os.path.getmtime(os.path.join(folder, META_FILE))
        entries.append(entry)
    return sorted(entries, key=lambda e: -e["last_used"]), foreign


def list_caches():
    """The cache folders of `scan_cache_directory()`, newest use first."""
    return scan_cache_directory()[0]


def remove_cache(entry):
    """Delete one cache folder from `list_caches()`; returns the bytes freed.

    Checked again here: a folder that is not a cache (or has become a link
    since it was listed) is refused with `OutputError`, never deleted.
    """
    folder = entry["folder"]
    if not _is_cache_folder(folder):
        raise OutputError("%s: not an encoder cache kerasbert wrote (or a symbolic link); left as it is" % folder)
    shutil.rmtree(folder)  # does not follow links inside the folder
    return entry["bytes"]


# The store ---------------------------------------------------------------------


class EncoderStateCache:
    """Read-only view of a finished cache folder (memory-mapped)."""

    def __init__(self, folder):
        self.folder = folder
        with open(os.path.join(folder, META_FILE), encoding="utf-8") as handle:
            self.meta = json.load(handle)
        self.states = np.load(os.path.join(folder, STATES_FILE), mmap_mode="r")
        self.row_lengths = np.load(os.path.join(folder, LENGTHS_FILE))
        self.offsets = np.concatenate([[0], np.cumsum(self.row_lengths)]).astype(np.int64)

    def __len__(self):
        return len(self.row_lengths)

    def gather(self, rows, time=None):
        """Rows as one padded float16 array `(len(rows), time, layers kept, hidden)`; zeros on padding."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.row_lengths[rows]
        time = int(lengths.max()) if time is None else int(time)
        out = np.zeros((len(rows), time, self.states.shape[1], self.states.shape[2]), np.float16)
        for i, (row, length) in enumerate(zip(rows, lengths)):
            start = self.offsets[row]
            out[i, :length] = self.states[start : start + length]
        return out


def _check_disk(folder, size):
    os.makedirs(folder, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if size + DISK_MARGIN_BYTES > free:
        raise CacheTooLarge(
            "the encoder cache needs %.1f GB but %s has %.1f GB free; free some space, "
            "point KERASBERT_ENCODER_CACHE at a larger disk, lower the maximum length, or train without the cache"
            % (size / 1e9, folder, free / 1e9)
        )


def build_or_load_cache(model, tokenizer, texts, max_length, plan, checkpoint, batch_size=64,
                        verbose=True, encoder_name="encoder", description="texts"):
    """The `EncoderStateCache` for `texts`: read from disk, or computed and published first.

    `model` is a rating network of either road; its road computes the states
    (`encoder_states_function`), and the store is the same for both.
    """
    texts = list(texts)
    models = road_of(model).models
    policy = road_of(model).keras.mixed_precision.global_policy().name
    key, parts = cache_key(checkpoint, texts, max_length, plan, policy)
    folder = cache_folder(key)
    if os.path.isfile(os.path.join(folder, META_FILE)):
        try:
            os.utime(os.path.join(folder, META_FILE))  # "last used", for clearing caches unused for some days
        except OSError:
            pass  # a read-only cache still serves
        logger.info("Encoder cache hit for %d %s: %s", len(texts), description, folder)
        return EncoderStateCache(folder)

    flat_ids, lengths = encode_texts(texts, tokenizer, max_length=max_length, progress=verbose and len(texts) >= 20000)
    total_tokens = int(lengths.sum())
    size = total_tokens * plan.bytes_per_token()
    parent = os.path.dirname(folder)
    _check_disk(parent, size)
    logger.info("Encoder cache for %d %s: %d tokens x %d layer(s) x %d hidden x 2 bytes = %.2f GB -> %s",
                len(texts), description, total_tokens, len(plan.stored), plan.hidden_size, size / 1e9, folder)

    forward = models.encoder_states_function(model.get_layer(encoder_name), plan)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows_ids = row_slices(flat_ids, lengths)
    order = np.argsort(lengths, kind="stable")  # similar lengths together: little padding
    pad = pad_id(tokenizer)
    progress = tqdm(total=len(texts), desc="encoder cache", unit=" texts", disable=not verbose)
    with atomic_directory(folder) as tmp:
        # First, so even a killed build's `.partial` folder is known as ours to `cache clear`.
        with open(os.path.join(tmp, MARKER_FILE), "w", encoding="utf-8") as handle:
            handle.write(MARKER_TEXT)
        states = np.lib.format.open_memmap(
            os.path.join(tmp, STATES_FILE), mode="w+", dtype=np.float16,
            shape=(total_tokens, len(plan.stored), plan.hidden_size),
        )
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            inputs = pad_token_ids([rows_ids[row] for row in rows], pad)
            batch_states = forward(inputs["input_ids"], inputs["attention_mask"])
            for i, row in enumerate(rows):
                states[offsets[row] : offsets[row + 1]] = batch_states[i, : lengths[row]]
            progress.update(len(rows))
        progress.close()
        states.flush()
        del states
        np.save(os.path.join(tmp, LENGTHS_FILE), lengths.astype(np.int64))
        with open(os.path.join(tmp, META_FILE), "w", encoding="utf-8") as handle:
            json.dump(dict(parts, key=key, tokens=total_tokens, bytes=size), handle, indent=2)
    return EncoderStateCache(folder)


# Training on the cache -----------------------------------------------------------


def model_on_cache(model, plan, encoder_name="encoder"):
    """A model from cached states to `model`'s output, sharing all of `model`'s weights (on `model`'s road)."""
    return road_of(model).models.model_on_cache(model, plan, encoder_name)


def cached_dataset(store, labels=None, task="classification", batch_size=32, max_length=128, shuffle=False,
                   seed=0, bucket_boundaries=None, drop_remainder=False, titles=None, rows_per_title=None,
                   sample_weights=None):
    """Batches `({"cached_states", "attention_mask"}, label[, sample_weight])` read from `store`.

    The same shuffle, length buckets and per-title sampling
    (`rows_per_title`) as `kerasbert.data.make_dataset` on the same texts,
    through the same batching routine, so a cached run sees the same batches
    in the same order. A `tf.data.Dataset`, for the tf-keras road; the Keras 3
    road reads the store through `kerasbert.keras3.models.cached_batches`.
    """
    from kerasbert._backend import tf
    from kerasbert.data.pipeline import (
        batch_by_length,
        count_batches,
        make_title_sampling,
        row_dataset,
        target_columns,
        with_cardinality,
    )

    lengths = np.asarray(store.row_lengths, np.int64)
    n = len(lengths)
    label_array = None
    if labels is not None:
        label_array = encode_labels(labels, task)
        if len(label_array) != n:
            raise ValueError("%d cached texts but %d labels" % (n, len(label_array)))
    if bucket_boundaries is None:
        bucket_boundaries = default_bucket_boundaries(max_length)
    bucket_boundaries = sorted(int(b) for b in bucket_boundaries)
    sampling = make_title_sampling(titles, lengths, rows_per_title, bucket_boundaries=bucket_boundaries)
    columns = (np.arange(n, dtype=np.int64), lengths) + target_columns(label_array, sample_weights, n)
    ds = row_dataset(columns, shuffle, seed, sampling)
    count_lengths = sampling.count_lengths if sampling is not None else lengths
    ds = batch_by_length(ds, lambda row, length, *rest: tf.cast(length, tf.int32), batch_size, bucket_boundaries,
                         drop_remainder)
    depth, hidden = store.states.shape[1], store.states.shape[2]

    def read(batch_rows, batch_lengths, *target):
        states = tf.numpy_function(lambda r: store.gather(r), [batch_rows], tf.float16)
        states.set_shape([None, None, depth, hidden])
        time = tf.shape(states)[1]
        mask = tf.cast(tf.sequence_mask(batch_lengths, time), tf.int32)
        features = {"cached_states": states, "attention_mask": mask}
        return (features,) + target if target else features

    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return with_cardinality(ds, count_batches(count_lengths, batch_size, False, drop_remainder, bucket_boundaries,
                                              max_length))


def describe_plan(plan):
    if plan.start >= plan.num_layers:
        return "frozen encoder: hidden states %s from the cache" % list(plan.stored)
    return "blocks %d-%d train on hidden state %d from the cache (layers kept: %s)" % (
        plan.start, plan.num_layers - 1, plan.start, list(plan.stored))


__all__ = [
    "CachePlan",
    "CacheTooLarge",
    "EncoderStateCache",
    "build_or_load_cache",
    "cache_key",
    "cache_plan",
    "cached_dataset",
    "list_caches",
    "model_on_cache",
    "remove_cache",
    "scan_cache_directory",
]
