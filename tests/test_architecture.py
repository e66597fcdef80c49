"""The package's floors (ARCHITECTURE.md): imports only go down, and each rule has one home.

Every `import` of kerasbert is read with `ast`, function-level ones included,
so a lazy import cannot hide an upward edge or a cycle.
"""

import ast
import pathlib
import re

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "kerasbert"

# Floor of each unit (a subpackage or a top-level module of kerasbert); an import must go
# to a strictly lower floor or stay inside its own unit. Peers (same floor) never import each other.
FLOORS = {
    "errors": 0,
    "environment": 1,
    "utils": 1,
    "hardware": 1,
    "limits": 1,
    "_backend": 2,
    "tasks": 3,
    "layer_strategies": 3,
    "encoder_modes": 3,
    "defaults": 3,
    "masks": 3,
    "model_folder": 4,
    "distribute": 3,
    "checkpoints": 4,
    "model_arguments": 4,
    "compile_rules": 4,
    "builder_rules": 4,
    "title_adaptation": 4,
    "char_ngrams": 4,
    "rating_task": 5,
    "data": 5,
    "layers": 5,
    "models": 6,
    "evaluation": 6,
    "keras3": 6,  # the Keras 3 road's modelling floors, beside layers/ and models/
    "training": 7,
    "analysis": 8,
    "commands": 9,
    "__init__": 10,  # the public facade
    "__main__": 10,
}


def modules():
    """{dotted module name: path} of every file of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def unit(module):
    """`kerasbert.data.pipeline` -> `data`; the package itself -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def resolve(name):
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module, path):
    """The kerasbert modules `module` imports (resolved to files), function-level ones included."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [prefix + "." + alias.name for alias in node.names] or [prefix]
        else:
            continue
        for name in names:
            if name.split(".")[0] != "kerasbert":
                continue
            target = resolve(name)
            if target and target != module and target != "kerasbert":  # the package facade sets env vars only
                found.add(target)
    return found


GRAPH = {module: imports(module, path) for module, path in MODULES.items()}


def test_every_unit_has_a_floor():
    assert {unit(module) for module in MODULES} <= set(FLOORS)


def test_imports_only_go_down():
    upward = sorted(
        "%s imports %s (floor %d -> %d)" % (source, target, FLOORS[unit(source)], FLOORS[unit(target)])
        for source, targets in GRAPH.items() for target in targets
        if unit(source) != unit(target) and FLOORS[unit(target)] >= FLOORS[unit(source)]
    )
    assert not upward, "\n".join(upward)


def test_no_import_cycle():
    """No cycle between files (between units there can be none: imports only go down)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not cycles, cycles


def test_the_checker_sees_function_level_and_upward_imports(tmp_path):
    """The rule can fail: an upward import hidden in a function body is found."""
    path = tmp_path / "probe.py"
    path.write_text("def f():\n    from kerasbert.training import runner\n", encoding="utf-8")
    found = imports("kerasbert.data.probe", path)
    assert found == {"kerasbert.training.runner"}
    assert FLOORS[unit("kerasbert.training.runner")] > FLOORS[unit("kerasbert.data.probe")]


def _calls(path, name):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if unit(m) != "commands"))
def test_library_code_never_prints_or_parses_arguments(module):
    path = MODULES[module]
    assert not _calls(path, "print"), "%s prints (lines %s): log or return instead" % (path, _calls(path, "print"))
    assert "argparse" not in {t.split(".")[0] for t in _imported_names(path)}, "%s uses argparse" % path


def _imported_names(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module or "")
    return names


def test_errors_are_defined_in_errors_py():
    defined = []
    for module, path in MODULES.items():
        if module == "kerasbert.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and (base.id.endswith("Error") or base.id == "Exception")
                    for base in node.bases):
                defined.append("%s: %s" % (path.name, node.name))
    assert not defined, defined


def test_no_private_name_is_imported_across_units():
    crossing = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kerasbert."):
                target = resolve(node.module)
                if target and unit(target) != unit(module):
                    crossing += ["%s: %s.%s" % (module, node.module, alias.name) for alias in node.names
                                 if alias.name.startswith("_")]
    assert not crossing, crossing


# One home per rule: the pattern, and the only files allowed to hold it.
RULE_HOMES = {
    "stars from class outputs (argmax + 1)": (r"argmax\([^)]*\)\s*\+\s*(1|MIN_STAR)\b", {"tasks.py"}),
    "rounding scores to stars (floor(x + 0.5))": (r"floor\([^)]*\+\s*0\.5\)", {"tasks.py"}),
    "the pad id (tokenizer.pad_token_id)": (r"\.pad_token_id\b", {"data/encoding.py"}),
    "padding to a width (np.full(..., pad...))": (r"np\.full\(\([^)]*\),\s*pad", {"data/encoding.py"}),
    "the star range as range(1, 6)": (r"range\(1,\s*6\)|arange\(1,\s*6\)", {"tasks.py"}),
    "AdamW's weight-decay exclusions": (r"exclude_from_weight_decay", {"compile_rules.py"}),
    "the weight-decay exclusion list": (r"\"layer_norm\", \"bias\"", {"defaults.py"}),
    "a range check on a user's number (must be >= / in [)": (r"must be (>=|in \[)", {"limits.py"}),
    "which texts count as empty (unicodedata categories)": (r"unicodedata\.category", {"data/cleaning.py"}),
}


@pytest.mark.parametrize("rule", sorted(RULE_HOMES))
def test_each_rule_has_one_home(rule):
    pattern, homes = RULE_HOMES[rule]
    found = sorted(str(path.relative_to(PACKAGE)) for path in MODULES.values()
                   if re.search(pattern, path.read_text(encoding="utf-8"))
                   and str(path.relative_to(PACKAGE)) not in homes)
    assert not found, "%s outside its home %s: %s" % (rule, sorted(homes), found)
