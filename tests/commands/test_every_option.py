"""Every subcommand and every option, with the cases generated from the parsers' own declarations.

Each option that takes a value declares what it is (`kerasbert.commands.options`): a
`kerasbert.limits.Limit` (`type=typed(limit)`), argparse `choices`, a path kind
(`type=input_path`, `output_path`, ...) or free text. From those declarations this
module makes the hostile cases: each numeric option just outside each bounded end of its
limit (and NaN for real-valued ones), which must be refused;
each path option at a missing file, a folder, a file where a folder is expected, a
FIFO and an unwritable place. Every case must end with exit 0 or 2, no traceback, one
`kerasbert: error:` line when it fails, and the outputs that existed before (the
command's own earlier output and the user's file it was pointed at) unchanged after
a failure. A new command or option joins the table by being declared; a command
without a base command line below makes `test_every_command_has_a_base` fail.
"""

import argparse
import hashlib
import json
import os
import pathlib
import signal
import threading

import pandas as pd
import pytest

from kerasbert.commands.cli import build_parser, main

PATH_CASES = ("missing", "folder", "file_for_folder", "fifo", "unwritable")
CASE_SECONDS = 240  # a FIFO read twice blocks for ever: fail the case instead of hanging the suite


# The parsers' declarations ---------------------------------------------------------------------


def leaf_commands(parser=None, prefix=()):
    """`(("analyze", "attention"), subparser)` for every command that runs something."""
    parser = parser or build_parser()
    seen = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    yield from leaf_commands(sub, prefix + (name,))
    if prefix and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
        yield prefix, parser


def value_options(parser):
    """The actions of `parser` that take a value (not flags, not help)."""
    return [a for a in parser._actions if a.nargs != 0 and not isinstance(a, argparse._HelpAction)]


def declaration(action):
    """`("limit", Limit)`, `("choices", choices)`, `("path", kind)` or `("text", None)`."""
    if getattr(action.type, "limit", None) is not None:
        return "limit", action.type.limit
    if action.choices:
        return "choices", action.choices
    if getattr(action.type, "path_kind", None):
        return "path", action.type.path_kind
    return "text", None


LEAVES = dict(leaf_commands())
PATHLIKE = ("input", "output", "data", "model", "corpus", "file", "stopwords", "dir", "finetuned")


def test_every_numeric_option_declares_its_limit():
    undeclared = ["%s %s" % (" ".join(command), action.option_strings or action.dest)
                  for command, parser in LEAVES.items() for action in value_options(parser)
                  if action.type in (int, float)]
    assert not undeclared, "numeric options without a declared Limit (use options.typed): %s" % undeclared


def test_every_path_option_declares_its_kind():
    undeclared = ["%s %s" % (" ".join(command), action.option_strings or action.dest)
                  for command, parser in LEAVES.items() for action in value_options(parser)
                  if any(word in action.dest for word in PATHLIKE) and declaration(action)[0] == "text"]
    assert not undeclared, "path options without a declared kind (use options.input_path etc.): %s" % undeclared


def test_limits_refuse_the_hostile_numbers_they_do_not_declare():
    # The table below relies on this: a declared limit refuses what it says it refuses.
    from kerasbert.limits import integer, number

    count = integer(1, 100)
    assert [count.problem(v) is None for v in (0, 1, 100, 101, -1, 2.5, True)] == [False, True, True, False,
                                                                                  False, False, False]
    share = number(0.0, 1.0, low_open=True)
    assert share.problem(0.0) and share.problem(float("nan")) and share.problem(None) and not share.problem(1.0)
    assert share.or_none().problem(None) is None
    with pytest.raises(ValueError, match=r"an integer in \[1, 100\], got 'x'"):
        count.parse("x")


# Fixtures: one tiny world every command can run in ----------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory, tiny_chinese_checkpoint, demo_sample_csv):
    """Tiny inputs for every command: a labelled CSV, a trained model folder, texts, a recipe."""
    from kerasbert.training import load_recipe, run_recipe

    root = tmp_path_factory.mktemp("world")
    frame = pd.read_csv(demo_sample_csv).head(60)
    csv = root / "ratings.csv"
    frame.to_csv(csv, index=False)
    polarity = root / "polarity.csv"
    pd.DataFrame({"text": frame["comment"], "label": (frame["star"] >= 4).astype(int)}).to_csv(polarity, index=False)
    texts = root / "texts.txt"
    texts.write_text("\n".join(frame["comment"].head(3)) + "\n", encoding="utf-8")
    model = root / "model"
    config = load_recipe("douban_classify_frozen", checkpoint=tiny_chinese_checkpoint, data=str(csv),
                         output_dir=str(model), trim_vocabulary=False, epochs=1, batch_size=16, max_length=32,
                         attention_units=8, num_hops=2, strategy="default", mixed_precision="float32",
                         rows_per_title=None, validation_rows_per_title=None)
    run_recipe(config, verbose=False)
    recipe = root / "tiny_recipe.json"
    recipe.write_text(json.dumps({
        "name": "tiny", "checkpoint": tiny_chinese_checkpoint, "data": str(csv), "epochs": 1, "batch_size": 16,
        "max_length": 32, "max_examples": 48, "max_eval_examples": 16, "split": "random", "strategy": "default",
        "mixed_precision": "float32", "model": {"attention_units": 8, "num_hops": 2, "hidden_units": [8]}}),
        encoding="utf-8")
    return dict(root=root, csv=str(csv), polarity=str(polarity), texts=str(texts), model=str(model),
                checkpoint=tiny_chinese_checkpoint, recipe=str(recipe))


# A valid command line per command, writing into `out` (a folder or a file, as the command writes).
BASES = {
    ("train",): lambda w, out: ["train", "--recipe", w["recipe"], "--output-dir", out, "--quiet"],
    ("predict",): lambda w, out: ["predict", "--model", w["model"], "--input", w["csv"], "--output", out,
                                  "--quiet"],
    ("evaluate",): lambda w, out: ["evaluate", "--model", w["model"], "--input", w["csv"], "--output", out,
                                   "--quiet"],
    ("cache", "list"): lambda w, out: ["cache", "list"],
    ("cache", "clear"): lambda w, out: ["cache", "clear", "--all", "--dry-run"],
    ("checkpoint", "build"): lambda w, out: ["checkpoint", "build", w["checkpoint"], "--quiet"],
    ("checkpoint", "trim"): lambda w, out: ["checkpoint", "trim", w["checkpoint"], "--corpus", w["csv"],
                                            "--output", out, "--quiet"],
    ("checkpoint", "info"): lambda w, out: ["checkpoint", "info", w["checkpoint"], "--json"],
    ("prepare",): lambda w, out: ["prepare", "--input", w["csv"], "--output", out, "--no-figure", "--quiet"],
    ("tfrecords",): lambda w, out: ["tfrecords", "--input", w["csv"], "--tokenizer", w["checkpoint"],
                                    "--output", out, "--quiet"],
    ("analyze", "attention"): lambda w, out: ["analyze", "attention", w["model"], "--texts-file", w["texts"],
                                              "--output", out, "--max-length", "16", "--max-flow-tokens", "4"],
    ("analyze", "layers"): lambda w, out: ["analyze", "layers", w["model"], "--output", out],
    ("analyze", "words"): lambda w, out: ["analyze", "words", w["checkpoint"], "--example", "yisi",
                                          "--output", out],
    ("analyze", "sentences"): lambda w, out: ["analyze", "sentences", w["checkpoint"], "--texts-file", w["texts"],
                                              "--output", out, "--max-length", "16"],
    ("analyze", "transfer"): lambda w, out: ["analyze", "transfer", w["checkpoint"], "--data", w["polarity"],
                                             "--data", w["polarity"], "--rows", "40", "--output", out,
                                             "--max-length", "16"],
    ("analyze", "words-per-star"): lambda w, out: ["analyze", "words-per-star", "--data", w["csv"],
                                                   "--output", out, "--top", "5", "--min-comments", "1"],
}


def test_every_command_has_a_base():
    assert sorted(LEAVES) == sorted(BASES), "give each command a valid base command line in BASES"


# Running one case ------------------------------------------------------------------------------


class CaseTimeout(BaseException):  # not an Exception: the CLI must not report it as a user error
    pass


def _alarm(signum, frame):
    raise CaseTimeout()


def tree_digest(path):
    """A digest of a file or of a folder's names and bytes (None when nothing is there)."""
    if not os.path.lexists(path):
        return None
    digest = hashlib.sha256()
    if os.path.isfile(path) or os.path.islink(path) or not os.path.isdir(path):
        digest.update(b"file" if os.path.isfile(path) else b"other")
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                digest.update(handle.read())
        return digest.hexdigest()
    for parent, folders, files in sorted(os.walk(path)):
        folders.sort()
        for name in sorted(files):
            full = os.path.join(parent, name)
            digest.update(os.path.relpath(full, path).encode())
            if os.path.isfile(full):
                with open(full, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


def run_case(argv, capsys):
    """`(exit status, stderr)`; fails the test on a traceback (an exception out of `main`) or a hang."""
    capsys.readouterr()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        try:
            status = main(list(argv))
        except SystemExit as stop:  # argparse refusing an option
            status = stop.code
        except CaseTimeout:
            pytest.fail("hung for %d s: kerasbert %s" % (CASE_SECONDS, " ".join(argv)))
        except Exception as error:  # noqa: BLE001 - any exception out of main is a traceback for the user
            pytest.fail("traceback (%s: %s) from: kerasbert %s" % (type(error).__name__, error, " ".join(argv)))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert status in (0, 2), "exit %r from: kerasbert %s\n%s" % (status, " ".join(argv), err)
    assert "Traceback" not in err, err
    if status:
        errors = [line for line in err.splitlines() if "error:" in line]
        assert len(errors) == 1, "expected one error line from kerasbert %s, got:\n%s" % (" ".join(argv), err)
    return status, err


def with_option(argv, action, words):
    """`argv` with the option set to `words` (replacing its value if the base gives one)."""
    argv = list(argv)
    flag = action.option_strings[0] if action.option_strings else None
    if flag is None:  # a positional: replace the base's value (the first word that is not a flag)
        index = next(i for i in range(len(argv)) if argv[i] == positional_value(argv, action))
        return argv[:index] + list(words) + argv[index + 1:]
    for spelling in action.option_strings:
        while spelling in argv:
            i = argv.index(spelling)
            count = action.nargs if isinstance(action.nargs, int) else 1
            del argv[i:i + 1 + count]
    return argv + [flag] + list(words)


def positional_value(argv, action):
    for word in argv[1:]:
        if not word.startswith("-") and word not in ("attention", "layers", "words", "sentences", "transfer",
                                                     "words-per-star", "list", "clear", "build", "trim", "info"):
            return word
    raise AssertionError("no value for %s in %s" % (action.dest, argv))


def output_of(argv):
    for flag in ("--output", "--output-dir", "--out"):
        if flag in argv:
            return argv[argv.index(flag) + 1]
    return None


def make_path(case, tmp_path, action, kind):
    """The hostile path for `case`; for a FIFO, a thread feeds it (input) or drains it (output)."""
    if case == "missing":
        return str(tmp_path / "no_such_dir" / "no_such_file.csv"), None
    if case == "folder":
        folder = tmp_path / "a_folder"
        folder.mkdir()
        (folder / "users_file.txt").write_text("the user's own file\n")
        return str(folder), None
    if case == "file_for_folder":
        users = tmp_path / "users_file.csv"
        users.write_text("the user's own file, not a folder\n")
        return str(users), None
    if case == "unwritable":
        return "/proc/kerasbert_cannot_write_here/out", None
    fifo = str(tmp_path / "a_fifo")
    os.mkfifo(fifo)

    def feed():
        try:
            if kind == "output":
                with open(fifo, "rb") as handle:
                    handle.read()
            else:
                with open(fifo, "w", encoding="utf-8") as handle:
                    handle.write("movie,star,comment\nm1,5,很好看\nm2,1,太差了\n")
        except OSError:
            pass

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return fifo, thread


def release(fifo, thread):
    """Unblock a feeder thread the command never met (so no thread is left waiting)."""
    if thread is None or not thread.is_alive():
        return
    for flags in (os.O_RDONLY | os.O_NONBLOCK, os.O_WRONLY | os.O_NONBLOCK):
        try:
            os.close(os.open(fifo, flags))
        except OSError:
            pass
    thread.join(timeout=5)


def outside_values(limit):
    """The values just outside a numeric limit at each bounded end, and NaN for real-valued ones."""
    values = []
    if limit.low is not None:
        values.append(limit.low if limit.low_open else limit.low - 1)
    if limit.high is not None:
        values.append(limit.high if limit.high_open else limit.high + 1)
    words = ["%d" % v if float(v).is_integer() else repr(v) for v in values]
    return words + (["nan"] if limit.kind == "number" else [])


def cases():
    """`(command, option dest, words)` for every declared option of every command."""
    for command, parser in sorted(LEAVES.items()):
        for action in value_options(parser):
            kind, detail = declaration(action)
            repeat = action.nargs if isinstance(action.nargs, int) else 1
            if kind == "limit":
                for value in outside_values(detail):
                    yield pytest.param(command, action.dest, "number", [value] * repeat,
                                       id="%s-%s=%s" % ("-".join(command), action.dest, value))
            elif kind == "path":
                # "unwritable" is a missing place to a reader: only outputs get it
                for case in PATH_CASES if detail == "output" else PATH_CASES[:-1]:
                    yield pytest.param(command, action.dest, case, None,
                                       id="%s-%s=%s" % ("-".join(command), action.dest, case))
            elif kind == "choices":
                yield pytest.param(command, action.dest, "choice", ["not-a-choice"] * repeat,
                                   id="%s-%s=bad-choice" % ("-".join(command), action.dest))


CASES = list(cases())


def test_the_table_covers_every_command():
    assert {c.values[0] for c in CASES} >= {c for c, p in LEAVES.items() if len(value_options(p)) > 1}
    assert len(CASES) > 200


@pytest.fixture(scope="module")
def earlier_outputs(world):
    """Each command's output from a successful base run, written once (the output later cases must keep)."""
    return {}


@pytest.mark.parametrize("command, dest, case, words", CASES)
def test_hostile_option(command, dest, case, words, world, earlier_outputs, tmp_path, capsys):
    parser = LEAVES[command]
    action = next(a for a in value_options(parser) if a.dest == dest)
    kind = declaration(action)[1] if case not in ("number", "choice") else None
    root = world["root"] / "outputs" / "-".join(command)
    base = BASES[command](world, str(root))
    earlier = output_of(base)
    if earlier and command not in earlier_outputs:
        earlier_outputs[command] = None
        status, err = run_case(base, capsys)  # the earlier output every failing case must leave alone
        assert status == 0, "the base command line of %s fails:\n%s" % (command, err[-2000:])
        earlier_outputs[command] = tree_digest(earlier)
    thread = target = None
    if words is None:
        target, thread = make_path(case, tmp_path, action, kind)
        words = [target] * (action.nargs if isinstance(action.nargs, int) else 1)
    before = tree_digest(target) if target else None
    earlier_before = tree_digest(earlier) if earlier else None
    try:
        status, err = run_case(with_option(base, action, words), capsys)
    finally:
        if thread is not None:
            release(target, thread)
    if status and earlier:  # a refused run leaves the output of an earlier run as it was
        assert tree_digest(earlier) == earlier_before, "a failed run changed the earlier output of %s" % (command,)
    if target and case in ("folder", "file_for_folder") and before is not None:
        if status:  # refused: nothing of the user's touched
            assert tree_digest(target) == before, "kerasbert %s changed the user's %s" % (" ".join(command), case)
        elif case == "folder":  # written into: the user's own file is still there, unchanged
            assert (pathlib.Path(target) / "users_file.txt").read_text() == "the user's own file\n"
        else:  # a file output (a CSV) may replace a file, but a file never becomes a folder
            assert os.path.isfile(target), "kerasbert %s replaced the user's file with a folder" % " ".join(command)
    if case in ("number", "choice"):  # a value outside the declared limit, or not a choice: refused
        assert status == 2, "kerasbert %s accepted %s %s" % (" ".join(command), action.option_strings[0], words)
