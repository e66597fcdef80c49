"""Resuming from `backup/` only with the recipe that wrote it."""

import pytest

from kerasbert.errors import ModelFolderError
from kerasbert.training import load_recipe
from kerasbert.training.runner import BACKUP_RECIPE, check_backup


def test_a_backup_of_another_recipe_is_refused_and_the_same_recipe_resumes(tmp_path):
    config = load_recipe("douban_classify_frozen", output_dir=str(tmp_path))
    check_backup(config, str(tmp_path))  # a first run notes its recipe in backup/
    assert (tmp_path / "backup" / BACKUP_RECIPE).is_file()
    (tmp_path / "backup" / "chief").mkdir()  # what Keras leaves after an interrupted epoch
    check_backup(config.replace(epochs=12), str(tmp_path))  # more epochs: still the same run
    other = config.replace(num_hops=4, learning_rate=0.01)
    with pytest.raises(ModelFolderError, match=r"backup of an interrupted run of another recipe "
                                               r"\(learning_rate, model differ\)"):
        check_backup(other, str(tmp_path))


def test_an_empty_backup_of_another_recipe_is_no_obstacle(tmp_path):
    config = load_recipe("douban_classify_frozen", output_dir=str(tmp_path))
    check_backup(config, str(tmp_path))  # nothing restorable beside the note (stopped before an epoch ended)
    check_backup(config.replace(num_hops=4), str(tmp_path))
