"""Destructive commands only touch what they made (issue 22): each case keeps a user's file that must survive.

`cache clear` deletes only folders a cache build made, never through a link; `checkpoint trim` never
replaces a file or a user's folder; `analyze` checks its arguments first and publishes only complete
outputs; `tfrecords` replaces its whole shard set and nothing else. Refusals are one `kerasbert: error:`
line with exit status 2.
"""

import json
import os

import numpy as np
import pandas as pd
import pytest

from kerasbert.commands import main
from kerasbert.errors import KerasbertError, OutputError
from kerasbert.utils.io import atomic_directory, check_output_folder

KEY = "0123456789abcdef01234567"  # a cache key's shape: 24 hex digits


def run(capsys, *argv):
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status, err, *words):
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kerasbert: error:"), err
    for word in words:
        assert word in lines[0], (word, lines[0])


def snapshot(root):
    """Every entry under `root`, links not followed: file bytes, "folder", or the link's target."""
    found = {}
    for parent, folders, files in os.walk(root):
        for name in folders + files:
            path = os.path.join(parent, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                found[relative] = "link -> " + os.readlink(path)
            elif os.path.isdir(path):
                found[relative] = "folder"
            else:
                with open(path, "rb") as handle:
                    found[relative] = handle.read()
    return found


def partial_folders(parent):
    return [name for name in os.listdir(parent) if name.endswith(".partial")]


# cache list | clear -------------------------------------------------------------------------------------


def write_cache(folder, key, marker=True):
    """A cache folder as a build writes it (marker first, meta.json last); `marker=False`: an older version's."""
    from kerasbert.training import encoder_cache

    os.makedirs(folder)
    if marker:
        with open(os.path.join(folder, encoder_cache.MARKER_FILE), "w") as handle:
            handle.write(encoder_cache.MARKER_TEXT)
    np.save(os.path.join(folder, encoder_cache.STATES_FILE), np.zeros((4, 1, 2), np.float16))
    np.save(os.path.join(folder, encoder_cache.LENGTHS_FILE), np.array([4], np.int64))
    with open(os.path.join(folder, encoder_cache.META_FILE), "w") as handle:
        json.dump({"key": key, "rows": 1, "max_length": 8, "stored": [2], "policy": "float32",
                   "checkpoint": {"checkpoint": "tiny"}}, handle)


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    """$KERASBERT_ENCODER_CACHE set to an ordinary folder: caches beside the user's own things."""
    from kerasbert.training import encoder_cache

    root = tmp_path / "mixed"
    root.mkdir()
    monkeypatch.setenv("KERASBERT_ENCODER_CACHE", str(root))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("not a cache")
    write_cache(str(outside / "a-cache"), "a-cache")  # a cache elsewhere, linked from the root
    # An unmarked folder, a file, an old cache's look-alike that holds more, a folder named like a
    # build, a link to a folder outside, a link to a cache outside.
    user = ["mine", "notes.txt", KEY[:-1] + "8", ".photos.x.partial", "link", "cache-link"]
    (root / "mine").mkdir()
    (root / "mine" / "thesis.tex").write_text("\\begin{document}")
    (root / "notes.txt").write_text("my notes")
    lookalike = root / (KEY[:-1] + "8")
    write_cache(str(lookalike), lookalike.name, marker=False)
    (lookalike / "todo.txt").write_text("keep me")
    (root / ".photos.x.partial").mkdir()
    (root / ".photos.x.partial" / "holiday.jpg").write_bytes(b"\xff\xd8 jpeg")
    os.symlink(str(outside), str(root / "link"))
    os.symlink(str(outside / "a-cache"), str(root / "cache-link"))
    write_cache(str(root / KEY), KEY)  # today's build: the marker
    write_cache(str(root / (KEY[:-1] + "9")), KEY[:-1] + "9", marker=False)  # an older version's: its files only
    interrupted = root / (".%s.abc123.partial" % KEY)  # a killed build: the marker, no meta.json
    interrupted.mkdir()
    (interrupted / encoder_cache.MARKER_FILE).write_text(encoder_cache.MARKER_TEXT)
    (interrupted / "states.npy").write_bytes(b"0" * 64)
    ours = [KEY, KEY[:-1] + "9", interrupted.name]
    return root, outside, sorted(user), sorted(ours)


def test_cache_list_shows_only_caches_and_counts_the_rest(cache_root, capsys):
    root, _, user, ours = cache_root
    status, out, _ = run(capsys, "cache", "list")
    assert status == 0
    assert out.splitlines()[0].startswith("Encoder caches in %s: 3, " % root)
    assert "interrupted build" in out
    for name in user:
        assert "  %s  " % name not in out
    assert "%d other entries left alone" % len(user) in out and "link" in out


def test_cache_clear_all_deletes_only_what_a_build_made(cache_root, capsys):
    root, outside, user, ours = cache_root
    before = snapshot(root)
    target = snapshot(outside)
    status, out, err = run(capsys, "cache", "clear", "--all")
    assert status == 0, err
    assert sorted(os.listdir(root)) == user  # every cache gone, every user entry there
    after = snapshot(root)
    assert {k: v for k, v in before.items() if k.split(os.sep)[0] in user} == after  # byte for byte
    assert os.path.islink(root / "link") and os.path.islink(root / "cache-link")
    assert snapshot(outside) == target  # links not followed: the targets untouched
    assert "3 cache(s) deleted" in out and "symbolic links are never followed" in out


def test_cache_clear_refuses_a_negative_age_and_deletes_nothing(cache_root, capsys):
    root, _, _, _ = cache_root
    before = snapshot(root)
    for days in ("-1", "nan"):
        status, _, err = run(capsys, "cache", "clear", "--unused-days", days)
        assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert "argument --unused-days: must be a number >= 0" in err
    assert snapshot(root) == before
    status, out, _ = run(capsys, "cache", "clear", "--unused-days", "0", "--dry-run")
    assert status == 0 and out.count("would delete") == 3 and snapshot(root) == before


def test_cache_clear_refuses_a_foreign_entry_named_as_a_key(cache_root, capsys):
    root, outside, _, _ = cache_root
    before = snapshot(root)
    for name in ("mine", "link", "cache-link", "notes.txt", KEY[:-1] + "8"):
        status, _, err = run(capsys, "cache", "clear", name)
        assert_one_line_error(status, err, "not an encoder cache", name)
    assert snapshot(root) == before


def test_remove_cache_checks_again_before_deleting(cache_root):
    from kerasbert.training.encoder_cache import list_caches, remove_cache

    root, outside, _, _ = cache_root
    for folder in (root / "mine", root / "link", root / "cache-link"):
        with pytest.raises(OutputError, match="not an encoder cache"):
            remove_cache({"folder": str(folder), "bytes": 0})
    assert (root / "mine" / "thesis.tex").is_file() and (outside / "precious.txt").is_file()
    assert (outside / "a-cache" / "meta.json").is_file()
    assert len(list_caches()) == 3


def test_a_cache_build_leaves_the_marker(tmp_path, monkeypatch):
    """The real build: its folder carries the marker, so `cache clear` knows it."""
    from transformers import BertConfig, BertTokenizerFast

    import kerasbert
    from kerasbert.training import encoder_cache

    monkeypatch.setenv("KERASBERT_ENCODER_CACHE", str(tmp_path / "caches"))
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdef")))
    tokenizer = BertTokenizerFast(str(vocab))
    config = BertConfig(vocab_size=11, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=8, max_position_embeddings=16)
    model = kerasbert.build_rating_model(config, mode="frozen", layers="last", pooling="mean", hidden_units=[4])
    seen = []
    original = encoder_cache.atomic_directory

    class Watch:  # what the build folder holds once the states are being written
        def __init__(self, path):
            self.context = original(path)

        def __enter__(self):
            self.tmp = self.context.__enter__()
            return self.tmp

        def __exit__(self, *exc):
            seen.extend(sorted(os.listdir(self.tmp)))
            return self.context.__exit__(*exc)

    monkeypatch.setattr(encoder_cache, "atomic_directory", Watch)
    store = encoder_cache.build_or_load_cache(model, tokenizer, ["a b", "c d e"], 8,
                                              encoder_cache.cache_plan(model), "tiny", verbose=False)
    assert encoder_cache.MARKER_FILE in seen
    assert os.path.isfile(os.path.join(store.folder, encoder_cache.MARKER_FILE))
    assert [e["key"] for e in encoder_cache.list_caches()] == [os.path.basename(store.folder)]


# checkpoint trim --out ----------------------------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.csv"
    path.write_text("movie,star,comment\nm1,5,很好看\nm2,1,太无聊\n", encoding="utf-8")
    return path


def trim(capsys, corpus, out, spec="no-such-checkpoint-folder"):
    # The output is checked before the spec is resolved: a bad spec would give another error.
    return run(capsys, "checkpoint", "trim", spec, "--corpus", corpus, "--out", out, "--quiet")


def test_trim_refuses_to_replace_a_file(tmp_path, corpus, capsys):
    out = tmp_path / "trimmed"
    out.write_bytes(b"my file\x00\x01")
    status, _, err = trim(capsys, corpus, out)
    assert_one_line_error(status, err, "exists and is not a folder")
    assert out.read_bytes() == b"my file\x00\x01"
    assert partial_folders(tmp_path) == []


def test_trim_refuses_a_folder_it_did_not_write(tmp_path, corpus, capsys):
    out = tmp_path / "work"
    out.mkdir()
    (out / "draft.md").write_text("two weeks of work")
    before = snapshot(out)
    status, _, err = trim(capsys, corpus, out)
    assert_one_line_error(status, err, "did not write", "draft.md")
    assert snapshot(out) == before


def test_trim_output_under_a_file_is_one_line(tmp_path, corpus, capsys):
    (tmp_path / "afile").write_text("x")
    status, _, err = trim(capsys, corpus, tmp_path / "afile" / "trimmed")
    assert_one_line_error(status, err, "is a file, not a folder")
    assert (tmp_path / "afile").read_text() == "x"


def test_an_empty_folder_or_an_earlier_trim_may_be_replaced(tmp_path):
    from kerasbert.checkpoints.info import TRIM_RECORD

    (tmp_path / "empty").mkdir()
    check_output_folder(tmp_path / "empty", marker=TRIM_RECORD)
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / TRIM_RECORD).write_text("{}")
    (tmp_path / "earlier" / "config.json").write_text("{}")
    check_output_folder(tmp_path / "earlier", marker=TRIM_RECORD)
    check_output_folder(tmp_path / "new" / "deeper", marker=TRIM_RECORD)  # missing parents: created later


def test_atomic_directory_never_replaces_a_file_and_creates_parents(tmp_path):
    victim = tmp_path / "file"
    victim.write_bytes(b"keep")
    with pytest.raises(OutputError, match="exists and is not a folder"):
        with atomic_directory(str(victim)):
            pass
    assert victim.read_bytes() == b"keep" and partial_folders(tmp_path) == []
    with atomic_directory(str(tmp_path / "a" / "b" / "out")) as tmp:
        open(os.path.join(tmp, "x.txt"), "w").close()
    assert (tmp_path / "a" / "b" / "out" / "x.txt").is_file()


# analyze ------------------------------------------------------------------------------------------------


@pytest.fixture
def analysis_out(tmp_path):
    """An output folder from an earlier run, and a file of the user's in it."""
    out = tmp_path / "analysis"
    out.mkdir()
    (out / "report.md").write_text("# the earlier run\n")
    (out / "similarity_cls.png").write_bytes(b"earlier png")
    (out / "whitening_ranking.png").write_bytes(b"earlier png 2")
    (out / "my_notes.txt").write_text("mine")
    return out


def test_analyze_refuses_its_arguments_before_writing(analysis_out, capsys):
    before = snapshot(analysis_out)
    status, _, err = run(capsys, "analyze", "sentences", "no-such-model", "--text", "一", "--text", "二",
                         "--wmd-pair", "1", "5", "--out", analysis_out)
    assert_one_line_error(status, err, "--wmd-pair")
    assert snapshot(analysis_out) == before
    assert partial_folders(analysis_out.parent) == []


def test_a_failed_analysis_leaves_the_output_folder_as_it_was(analysis_out, tiny_chinese_checkpoint, capsys,
                                                               monkeypatch):
    from kerasbert.commands import analyze

    def fails(*args, **kwargs):  # after every figure is drawn
        raise KerasbertError("the distance cannot be computed")

    monkeypatch.setattr(analyze, "text_wmd", fails)
    before = snapshot(analysis_out)
    status, _, err = run(capsys, "analyze", "sentences", tiny_chinese_checkpoint, "--text", "很好看",
                         "--text", "太无聊", "--out", analysis_out)
    assert_one_line_error(status, err, "cannot be computed")
    assert snapshot(analysis_out) == before
    assert partial_folders(analysis_out.parent) == []


def test_analyze_writes_under_missing_folders(tmp_path, tiny_chinese_checkpoint, capsys):
    out = tmp_path / "not" / "yet" / "there"
    status, stdout, err = run(capsys, "analyze", "sentences", tiny_chinese_checkpoint, "--text", "很好看",
                              "--text", "太无聊", "--out", out)
    assert status == 0, err
    assert {"report.md", "similarity_cls.png", "whitening_ranking.png"} <= set(os.listdir(out))
    assert str(out / "report.md") in stdout
    assert partial_folders(out.parent) == []


def test_a_page_publishes_into_an_existing_folder_and_keeps_other_files(analysis_out):
    from kerasbert.analysis import Page

    page = Page(analysis_out, "new")
    with open(page.path("similarity_cls.png"), "wb") as handle:
        handle.write(b"new png")
    page.figure(page.path("similarity_cls.png"), "similarity")
    written = page.write()
    assert written == [str(analysis_out / "similarity_cls.png"), str(analysis_out / "report.md")]
    assert (analysis_out / "similarity_cls.png").read_bytes() == b"new png"
    assert "](similarity_cls.png)" in (analysis_out / "report.md").read_text()
    assert (analysis_out / "my_notes.txt").read_text() == "mine"
    assert (analysis_out / "whitening_ranking.png").read_bytes() == b"earlier png 2"
    assert partial_folders(analysis_out) == partial_folders(analysis_out.parent) == []

    dropped = Page(analysis_out, "dropped")
    with open(dropped.path("report.md"), "w") as handle:
        handle.write("half")
    dropped.discard()
    assert (analysis_out / "report.md").read_text().startswith("# new")
    assert partial_folders(analysis_out) == []

    before = snapshot(analysis_out)
    forgotten = Page(analysis_out, "raised past")  # a failed analysis drops its page without a call
    with open(forgotten.path("report.md"), "w") as handle:
        handle.write("half")
    del forgotten
    assert snapshot(analysis_out) == before


def test_a_page_refuses_a_file_as_its_folder(tmp_path):
    from kerasbert.analysis import Page

    (tmp_path / "out").write_text("keep")
    with pytest.raises(OutputError, match="exists and is not a folder"):
        Page(tmp_path / "out", "x")
    assert (tmp_path / "out").read_text() == "keep" and partial_folders(tmp_path) == []


# tfrecords ----------------------------------------------------------------------------------------------


@pytest.fixture
def split_and_tokenizer(tmp_path):
    from transformers import BertTokenizerFast

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("很好看太无聊")))
    tokenizer_dir = tmp_path / "tokenizer"
    BertTokenizerFast(str(vocab)).save_pretrained(str(tokenizer_dir))
    split = tmp_path / "train.csv"
    pd.DataFrame({"movie": ["m%d" % (i % 3) for i in range(12)], "star": [i % 5 + 1 for i in range(12)],
                  "comment": ["很好看" if i % 2 else "太无聊了" for i in range(12)]}).to_csv(split, index=False)
    return split, tokenizer_dir


def tfrecords(capsys, split, tokenizer_dir, out, shards):
    return run(capsys, "tfrecords", "--input", split, "--tokenizer", tokenizer_dir, "--out", out,
               "--max-length", "8", "--num-shards", shards, "--quiet")


def test_tfrecords_again_with_fewer_shards_replaces_the_set(tmp_path, split_and_tokenizer, capsys):
    from kerasbert.data import read_tfrecord_metadata, tfrecord_dataset

    split, tokenizer_dir = split_and_tokenizer
    out = tmp_path / "records"
    out.mkdir()
    others = {"validation-00000-of-00001.tfrecord": b"another set", "validation.json": b"{}",
              "train-notes.txt": b"mine", "train-00000-of-00004.tfrecord.bak": b"my backup"}
    for name, data in others.items():
        (out / name).write_bytes(data)
    status, _, err = tfrecords(capsys, split, tokenizer_dir, out, 4)
    assert status == 0, err
    status, _, err = tfrecords(capsys, split, tokenizer_dir, out, 2)
    assert status == 0, err
    assert sorted(os.listdir(out)) == sorted(list(others) + ["train-00000-of-00002.tfrecord",
                                                             "train-00001-of-00002.tfrecord", "train.json"])
    assert all((out / name).read_bytes() == data for name, data in others.items())
    assert read_tfrecord_metadata(str(out / "train.json"))["num_shards"] == 2
    batches = tfrecord_dataset(str(out / "train-*.tfrecord"), max_length=8, batch_size=5, drop_remainder=False)
    assert sum(int(labels.shape[0]) for _, labels in batches) == 12  # each example once


def test_a_failed_tfrecords_run_leaves_the_old_set(tmp_path, split_and_tokenizer, capsys, monkeypatch):
    import kerasbert.data.tfrecords as module

    split, tokenizer_dir = split_and_tokenizer
    out = tmp_path / "records"
    assert tfrecords(capsys, split, tokenizer_dir, out, 3)[0] == 0
    before = snapshot(out)
    calls = []
    original = module.pad_token_ids

    def dies_late(*args, **kwargs):
        calls.append(1)
        if len(calls) > 7:  # in the second new shard
            raise KerasbertError("the disk went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "pad_token_ids", dies_late)
    status, _, err = tfrecords(capsys, split, tokenizer_dir, out, 2)
    assert_one_line_error(status, err, "disk went away")
    assert snapshot(out) == before  # no staging folder left either


def test_tfrecords_output_that_is_a_file_is_one_line(tmp_path, split_and_tokenizer, capsys):
    split, tokenizer_dir = split_and_tokenizer
    out = tmp_path / "records"
    out.write_bytes(b"not a folder")
    status, _, err = tfrecords(capsys, split, tokenizer_dir, out, 2)
    assert_one_line_error(status, err, "exists and is not a folder")
    assert out.read_bytes() == b"not a folder"
    status, _, err = tfrecords(capsys, split, tokenizer_dir, out / "inside", 2)
    assert_one_line_error(status, err, "is a file, not a folder")


def test_tfrecords_under_missing_folders(tmp_path, split_and_tokenizer, capsys):
    split, tokenizer_dir = split_and_tokenizer
    out = tmp_path / "a" / "b" / "records"
    status, _, err = tfrecords(capsys, split, tokenizer_dir, out, 2)
    assert status == 0, err
    assert sorted(os.listdir(out)) == ["train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord",
                                       "train.json"]
