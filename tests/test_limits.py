"""The one validation source: the same limit checks a recipe file, a flag and an API argument, and names the source."""

import json

import pytest

from kerasbert.commands.cli import main
from kerasbert.errors import ArgumentError, CheckpointNotFound, RecipeError
from kerasbert.limits import choice, integer, number
from kerasbert.model_arguments import MODEL_LIMITS, check_encoder_limits, check_model_arguments
from kerasbert.training.config import RECIPE_LIMITS, RecipeConfig, load_recipe


def test_limit_describes_and_checks_its_range():
    assert integer(1, 512).describe() == "an integer in [1, 512]"
    assert number(0.0, 1.0, low_open=True).describe() == "a number in (0, 1]"
    assert choice("a", "b").or_none().describe() == "one of a, b or null"
    assert integer(1, 512).check("max_length", 7.0) == 7 and isinstance(integer(1).check("n", 7.0), int)
    with pytest.raises(ArgumentError, match=r"^max_length must be an integer in \[1, 512\], got 513$") as caught:
        integer(1, 512).check("max_length", 513)
    assert caught.value.argument == "max_length"
    for bad in (float("inf"), float("nan"), "3", True, 2.5, None):
        assert integer(1, 512).problem(bad), bad
    assert number(0.0, 1.0, high_open=True).parse("0.5") == 0.5
    assert integer(1).or_none().parse("null") is None
    with pytest.raises(ValueError, match="got 'inf'"):
        integer(1).parse("inf")


def write_recipe(tmp_path, values, bom=False):
    path = tmp_path / "mine.json"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + json.dumps(values).encode("utf-8"))
    return str(path)


@pytest.mark.parametrize("field, value", [
    ("max_length", 0), ("max_length", 100000), ("epochs", 0), ("batch_size", -1), ("learning_rate", -0.001),
    ("learning_rate", 0.0), ("warmup_ratio", 1.0), ("seed", -1), ("strategy", "tpu_pod"),
    ("mixed_precision", "float8"), ("rows_per_title", 0), ("early_stopping_patience", -1),
])
def test_recipe_fields_out_of_range_name_the_file_and_field(tmp_path, field, value):
    path = write_recipe(tmp_path, {field: value})
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    assert caught.value.field == field and caught.value.path == path
    assert str(caught.value).startswith("%s: field %r: %s must be" % (path, field, field))


@pytest.mark.parametrize("argument, value", [("num_hops", 0), ("dropout", 1.0), ("attention_units", 0),
                                             ("hidden_units", [64, 0]), ("penalty_coefficient", -1.0),
                                             ("top_k", -1)])
def test_model_arguments_out_of_range(tmp_path, argument, value):
    with pytest.raises(ArgumentError) as caught:
        check_model_arguments(**{argument: value, **({"mode": "top_k"} if argument == "top_k" else {})})
    assert caught.value.argument == argument
    path = write_recipe(tmp_path, {"model": {argument: value, **({"mode": "top_k"} if argument == "top_k" else {})}})
    with pytest.raises(RecipeError, match="field '%s'" % argument):
        load_recipe(path)


def test_every_recipe_default_is_within_its_limit():
    defaults = RecipeConfig()
    for field, limit in RECIPE_LIMITS.items():
        assert limit.problem(getattr(defaults, field)) is None, field
    for argument, limit in MODEL_LIMITS.items():
        value = defaults.model[argument]
        for item in (value or ()) if argument == "hidden_units" else (value,):
            assert limit.problem(item) is None, argument


def test_a_recipe_saved_with_a_byte_order_mark_reads(tmp_path):
    assert load_recipe(write_recipe(tmp_path, {"epochs": 4}, bom=True)).epochs == 4


def test_a_bad_flag_names_the_flag_not_the_recipe(tmp_path, capsys):
    assert main(["train", "--recipe", write_recipe(tmp_path, {}), "--max-length", "0"]) == 2
    err = capsys.readouterr().err
    assert "argument --max-length: must be an integer in [2, 8192], got 0" in err and "mine.json" not in err
    # a combination refused after parsing: blamed on the flag that made it
    assert main(["train", "--recipe", write_recipe(tmp_path, {"mode": "frozen"}), "--layerwise-lr-decay",
                 "0.8"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasbert: error: --layerwise-lr-decay: layerwise_lr_decay needs") and len(
        err.strip().splitlines()) == 1
    # the same value from the recipe file is blamed on the file and field
    assert main(["train", "--recipe", write_recipe(tmp_path, {"mode": "frozen", "layerwise_lr_decay": 0.8})]) == 2
    assert "mine.json: field 'layerwise_lr_decay'" in capsys.readouterr().err


def test_encoder_limits_come_from_the_checkpoint():
    from kerasbert.encoder_modes import check_mode

    check_encoder_limits(512, 512)
    assert check_mode("top_k", 12, 12) == ("top_k", 12)
    with pytest.raises(ArgumentError, match="max_length 513 is above the 512 positions of the encoder") as caught:
        check_encoder_limits(513, 512)
    assert caught.value.argument == "max_length"
    with pytest.raises(ArgumentError, match=r"0 <= top_k <= 12 \(the blocks\), got 13") as caught:
        check_mode("top_k", 13, 12)
    assert caught.value.argument == "top_k"


def test_a_missing_local_checkpoint_folder_is_not_taken_for_a_hub_id(tmp_path):
    from kerasbert.checkpoints.registry import looks_like_a_path, resolve_checkpoint

    assert not looks_like_a_path("intfloat/multilingual-e5-small") and not looks_like_a_path("bert-base-chinese")
    assert not looks_like_a_path("hf://intfloat/multilingual-e5-small")
    for spec in ("./models/mine", str(tmp_path / "missing"), "models/chinese/bert", "~/bert"):
        assert looks_like_a_path(spec), spec
        with pytest.raises(CheckpointNotFound, match="no such checkpoint folder"):
            resolve_checkpoint(spec)
    (tmp_path / "weights.h5").write_bytes(b"")
    with pytest.raises(CheckpointNotFound, match="is a file, not a checkpoint folder"):
        resolve_checkpoint(str(tmp_path / "weights.h5"))
