"""The wheel ships the recipes, and an installed kerasbert finds them outside the repository."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
RECIPES = sorted(p.name for p in (REPO_ROOT / "recipes").glob("*.json"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    # Build from a copy, so that setuptools' build/ and egg-info stay out of the checkout.
    source = tmp_path_factory.mktemp("source") / "kerasbert"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "runs", "outputs", "tests"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out)],
        check=True, cwd=str(out),
    )
    (path,) = out.glob("kerasbert-*.whl")
    return path


def test_wheel_contains_the_recipes_and_the_sample(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert len(RECIPES) == 4
    for name in RECIPES:
        assert "kerasbert/recipes/" + name in names
    assert "kerasbert/recipes/data/douban_sample.csv" in names
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("kerasbert/recipes/data/douban_sample.csv")
    assert shipped == (REPO_ROOT / "recipes" / "data" / "douban_sample.csv").read_bytes()


def test_installed_package_loads_recipes_away_from_the_repository(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # a pure-Python wheel unpacks as an install
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import json, os, kerasbert\n"
        "from kerasbert.training import load_recipe\n"
        "out = {}\n"
        "for name in %r:\n"
        "    config = load_recipe(name[:-5])\n"
        "    out[name] = [kerasbert.__file__, config.data, os.path.isfile(config.data)]\n"
        "print(json.dumps(out))\n" % (RECIPES,)
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    result = subprocess.run([sys.executable, "-c", script], cwd=str(elsewhere), env=env, capture_output=True,
                            text=True, check=True)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    for name in RECIPES:
        package_file, data, exists = found[name]
        assert package_file.startswith(str(site)), package_file  # not the editable checkout
        assert data.startswith(str(site / "kerasbert" / "recipes")) and exists, data
