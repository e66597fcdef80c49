import ast
import pathlib
import re

import nbformat

from kerasbert.training import load_recipe

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "colab_tpu.ipynb"


def test_notebook_is_valid_and_calls_only_the_public_runner():
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    nbformat.validate(notebook)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    python = "\n".join(line for cell in code for line in cell.splitlines() if not line.lstrip().startswith(("!", "%")))
    tree = ast.parse(python)  # every Python line parses
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kerasbert")
        for alias in node.names
    }
    assert imported == {("kerasbert.training", "load_recipe"), ("kerasbert.training", "run_recipe")}
    assert 'strategy="tpu"' in python
    recipe = re.search(r'RECIPE = "(\w+)"', python).group(1)
    assert load_recipe(recipe, strategy="tpu").strategy == "tpu"
    shell = "\n".join(line for cell in code for line in cell.splitlines() if line.lstrip().startswith("!"))
    for script in re.findall(r"data_scripts/(\w+\.py)", shell):
        assert (NOTEBOOK.parents[1] / "data_scripts" / script).is_file()
