"""The trained-model folder: a `RatingModel` saved and loaded, and folders of the older layout."""

import json

import numpy as np
import pytest

from kerasbert import RatingModel
from kerasbert.checkpoints import load_tokenizer
from kerasbert.errors import ModelFolderError
from kerasbert.models import is_model_folder, load_model_folder, predict_scores, save_model_folder

TEXTS = ["剧情很好", "太无聊了，浪费时间", "还行吧", "演员的表演非常出色，推荐"]


@pytest.fixture
def tiny_model(tiny_chinese_checkpoint):
    return RatingModel.from_checkpoint(tiny_chinese_checkpoint, task="classification", max_length=32, mode="frozen",
                                       layers="last", pooling="mean", hidden_units=[8])


def test_saved_folder_loads_the_same_rating_model(tiny_model, tmp_path):
    expected = tiny_model.network.predict(tiny_model.preprocessor(TEXTS), verbose=0)
    save_model_folder(tiny_model, {"task": "classification", "max_length": 32, "name": "tiny"}, tmp_path / "run")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["model.keras", "recipe.json"]
    model, recipe = load_model_folder(tmp_path / "run")
    assert isinstance(model, RatingModel) and recipe["name"] == "tiny"
    assert (model.task, model.max_length) == ("classification", 32)
    np.testing.assert_allclose(predict_scores(model, TEXTS), expected, rtol=1e-5, atol=1e-6)


def test_a_folder_of_the_older_layout_still_loads(tiny_model, tiny_chinese_checkpoint, tmp_path):
    """Before, `model.keras` held the bare network and the tokenizer sat beside it in `tokenizer/`."""
    folder = tmp_path / "old_run"
    folder.mkdir()
    tiny_model.network.save(str(folder / "model.keras"))
    load_tokenizer(tiny_chinese_checkpoint).save_pretrained(str(folder / "tokenizer"))
    (folder / "recipe.json").write_text(json.dumps({"task": "classification", "max_length": 32, "layers": "last"}),
                                        encoding="utf-8")
    assert is_model_folder(folder)
    model, recipe = load_model_folder(folder)
    assert isinstance(model, RatingModel) and model.max_length == 32 and recipe["layers"] == "last"
    expected = tiny_model.network.predict(tiny_model.preprocessor(TEXTS), verbose=0)
    np.testing.assert_allclose(predict_scores(model, TEXTS), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict_stars(TEXTS, verbose=0), expected.argmax(axis=-1) + 1)


def test_incomplete_folders_name_what_is_missing(tiny_model, tmp_path):
    with pytest.raises(ModelFolderError, match="no such model folder"):
        load_model_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFolderError, match="missing model.keras, recipe.json"):
        load_model_folder(tmp_path / "empty")
    old = tmp_path / "old_without_tokenizer"
    old.mkdir()
    tiny_model.network.save(str(old / "model.keras"))
    (old / "recipe.json").write_text('{"task": "classification"}', encoding="utf-8")
    with pytest.raises(ModelFolderError, match="missing tokenizer"):
        load_model_folder(old)
    with pytest.raises(TypeError, match="takes a RatingModel"):
        save_model_folder(tiny_model.network, {"task": "classification"}, tmp_path / "x")
