"""The one runner behind every recipe: data -> `RatingModel` -> fit -> model folder -> report.

Road-neutral apart from the model it builds: it reads the splits, trims the
checkpoint, builds the datasets (or the encoder cache), fits, saves the
`RatingModel` folder and writes the report. Progress goes to the logger
`kerasbert.training.runner`; the `kerasbert train` command shows it.
"""

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import time

import pandas as pd

from kerasbert.checkpoints import cache_root, trim_checkpoint
from kerasbert.data.splitting import load_recipe_splits
from kerasbert.data.title_sampling import balanced_star_weights, title_weights
from kerasbert.errors import ArgumentError, ModelFolderError
from kerasbert.tasks import NUM_STARS
from kerasbert.training.evaluate import evaluate_frame
from kerasbert.training.roads import road
from kerasbert.training.title_adaptation import DEFAULT_CAP, fit_title_adaptation, training_star_prior
from kerasbert.utils.io import atomic_write_json, check_output_folder

__all__ = ["SPLITS", "load_splits", "prepare_checkpoint", "run_recipe"]

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
ADAPTATION_TABLE = "title_adaptation_candidates.csv"  # each candidate's score on validation titles
SUMMARY_METRICS = ("accuracy", "within_one_accuracy", "macro_f1", "mae", "rmse", "quadratic_weighted_kappa")


def load_splits(config, verbose=True):
    """{split: DataFrame(movie, star, comment)} from prepared splits or a raw CSV."""
    splits = load_recipe_splits(config.data, split=config.split, seed=config.seed, verbose=verbose)
    caps = {"train": config.max_examples}
    caps["validation"] = caps["test"] = config.max_eval_examples or (
        max(config.max_examples // 4, 1) if config.max_examples else None
    )
    for name, cap in caps.items():
        if cap and len(splits[name]) > cap:
            splits[name] = splits[name].sample(n=cap, random_state=config.seed).sort_index()
    return splits


def prepare_checkpoint(config, splits, verbose=True):
    """The checkpoint to build the model on: the spec, or a copy trimmed to the data's vocabulary.

    Trimmed copies live in the cache, keyed by the spec and the texts, so a
    re-run on the same data reuses them.
    """
    if not config.trim_vocabulary:
        return config.checkpoint
    texts = sorted(set(pd.concat([splits[name]["comment"] for name in SPLITS]).tolist()))
    digest = hashlib.sha256("\n".join([config.checkpoint] + texts).encode("utf-8")).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in config.checkpoint)
    out_dir = os.path.join(cache_root(), "trimmed", "%s-%s" % (name, digest))
    if os.path.isdir(out_dir):
        return out_dir
    logger.info("Trimming %s to the %d texts' vocabulary -> %s", config.checkpoint, len(texts), out_dir)
    return trim_checkpoint(config.checkpoint, texts, out_dir, progress=verbose, corpus_name="%s texts" % config.name)


# Fields a resumed run may change: how long it runs and where its files go, not what it trains.
RESUMABLE_CHANGES = ("epochs", "early_stopping_patience", "backup_every_steps", "output_dir", "name")
BACKUP_RECIPE = "kerasbert_recipe.json"  # beside Keras' own backup files, removed with them


def check_backup(config, out_dir, note=True):
    """Refuse to resume from `out_dir/backup` when it is the backup of another recipe; else (`note`) note this
    recipe in it.

    Keras' `BackupAndRestore` would restore any weights it finds there: from
    another model that is a shape error deep in Keras, and from another
    recipe of the same shapes it is a silent wrong result.
    """
    backup = os.path.join(out_dir, "backup")
    mine = json.loads(json.dumps({k: v for k, v in config.to_dict().items() if k not in RESUMABLE_CHANGES}))
    noted = os.path.join(backup, BACKUP_RECIPE)
    restorable = os.path.isdir(backup) and set(os.listdir(backup)) - {BACKUP_RECIPE}
    if restorable and os.path.isfile(noted):
        with open(noted, encoding="utf-8") as handle:
            theirs = json.load(handle)
        differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        if differ:
            raise ModelFolderError(
                "%s: is the backup of an interrupted run of another recipe (%s differ%s); resume with that recipe, "
                "or delete the backup folder to start afresh" % (backup, ", ".join(differ[:6]),
                                                               "s" if len(differ) == 1 else ""))
    if note:
        os.makedirs(backup, exist_ok=True)
        atomic_write_json(noted, mine)


def forget_backup(out_dir):
    """After a finished fit: remove this recipe's note (Keras has removed its own backup files)."""
    noted = os.path.join(out_dir, "backup", BACKUP_RECIPE)
    if os.path.isfile(noted):
        os.remove(noted)
    with contextlib.suppress(OSError):  # left in place when Keras left something in it
        os.rmdir(os.path.dirname(noted))


def make_callbacks(config, out_dir, verbose=True, run_road=None):
    run_road = run_road or road(config.backend)
    keras = run_road.keras
    monitor, mode = config.monitor
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup"),
                                         save_freq=config.backup_every_steps or "epoch"),
        keras.callbacks.ModelCheckpoint(os.path.join(out_dir, "checkpoints", run_road.best_weights), monitor=monitor,
                                        mode=mode, save_best_only=True, save_weights_only=True,
                                        verbose=int(bool(verbose))),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=config.early_stopping_patience),
        keras.callbacks.CSVLogger(os.path.join(out_dir, "training_log.csv"), append=True),
    ]
    if not run_road.keras3 or importlib.util.find_spec("tensorflow") is not None:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(out_dir, "tensorboard")))  # writes with tf.summary
    if config.gradual_unfreezing:
        if run_road.keras3:
            GradualUnfreezing = run_road.models.GradualUnfreezing
        else:
            from kerasbert.training.callbacks import GradualUnfreezing
        callbacks.append(GradualUnfreezing(initial_blocks=config.top_k or 1))
    return callbacks


def _validation_weights(config, splits):
    """Per-row validation weights capping each title's weight (None: every row alike).

    Rescaled to average 1: Keras divides a weighted loss by the row count, so
    `val_loss` then reads as the weighted mean, on the training loss's scale.
    """
    if config.validation_rows_per_title is None:
        return None
    weights = title_weights(splits["validation"]["movie"], config.validation_rows_per_title)
    return (weights / weights.mean()).astype("float32")


def _title_cap(config, splits):
    """The per-title cap on training rows per epoch, as pipeline arguments."""
    if config.rows_per_title is None:
        return {}
    return {"titles": splits["train"]["movie"].astype(str).tolist(), "rows_per_title": config.rows_per_title}


def _split_arguments(config, splits, name):
    """What differs between the training and the validation dataset."""
    if name == "train":
        return dict(shuffle=True, **_title_cap(config, splits))
    return dict(shuffle=False, sample_weights=_validation_weights(config, splits))


def _class_weight(config, splits):
    """Keras `class_weight` for `class_weight="balanced"` (labels 0-4), else None."""
    if config.class_weight is None:
        return None
    train = splits["train"]
    weights = balanced_star_weights(train["star"].to_numpy() - 1, train["movie"],
                                    config.rows_per_title, num_classes=NUM_STARS)
    logger.info("Star weights (balanced): %s", ", ".join("%d★ %.2f" % (k + 1, w) for k, w in weights.items()))
    return weights


def _datasets(config, splits, model, batch_size, strategy, on_tpu, run_road):
    """The training and validation batches: `tf.data` on the tf-keras road, NumPy `TextBatches` on Keras 3."""
    texts = {name: (splits[name]["comment"].tolist(), splits[name]["star"].to_numpy()) for name in ("train",
                                                                                                     "validation")}
    if run_road.keras3:
        return [model.preprocessor.dataset(*texts[name], batch_size=batch_size, seed=config.seed, fixed_length=on_tpu,
                                           **_split_arguments(config, splits, name)) for name in texts]
    from kerasbert.data.pipeline import make_dataset

    common = dict(tokenizer=model.tokenizer, task=config.task, batch_size=batch_size, max_length=config.max_length,
                  fixed_length=on_tpu, drop_remainder=on_tpu, strategy=strategy, seed=config.seed)
    return [make_dataset(*texts[name], **_split_arguments(config, splits, name), **common) for name in texts]


def _cached_datasets(config, splits, network, tokenizer, checkpoint, plan, batch_size, verbose, run_road):
    from kerasbert.training.encoder_cache import build_or_load_cache, cached_dataset

    batches = run_road.models.cached_batches if run_road.keras3 else cached_dataset
    datasets = []
    for name in ("train", "validation"):
        store = build_or_load_cache(network, tokenizer, splits[name]["comment"].tolist(), config.max_length, plan,
                                    checkpoint, verbose=verbose, description="%s texts" % name)
        datasets.append(batches(store, splits[name]["star"].to_numpy(), config.task, batch_size,
                                       config.max_length, seed=config.seed, **_split_arguments(config, splits, name)))
    return datasets


def _trainee_and_datasets(config, splits, model, checkpoint, batch_size, strategy, on_tpu, verbose, run_road):
    """What to fit and on which datasets: the `RatingModel`, or its network's top on the encoder cache."""
    plan = None
    if config.cache and not on_tpu and not config.gradual_unfreezing:
        from kerasbert.training.encoder_cache import cache_plan

        plan = cache_plan(model.network)
    if plan is None:
        return model, _datasets(config, splits, model, batch_size, strategy, on_tpu, run_road)
    from kerasbert.training.encoder_cache import describe_plan

    logger.info("Training from the encoder cache: %s", describe_plan(plan))
    datasets = _cached_datasets(config, splits, model.network, model.tokenizer, checkpoint, plan, batch_size,
                                verbose, run_road)
    with strategy.scope():
        return run_road.models.model_on_cache(model.network, plan), datasets


def _batches_per_epoch(dataset):
    """The dataset's own count (length buckets add up to one partial batch each)."""
    if hasattr(dataset, "cardinality"):
        return int(dataset.cardinality().numpy())
    return len(dataset)


def _compile(config, model, trainee, train_ds, strategy, on_tpu, run_road):
    total_steps = max(_batches_per_epoch(train_ds), 1) * config.epochs
    models = run_road.models
    jit = {} if run_road.keras3 else {"jit_compile": bool(config.jit_compile) and not on_tpu}  # TPUs compile anyway
    with strategy.scope():
        multipliers = None
        if config.layerwise_lr_decay is not None:
            multipliers = model.get_layer("encoder").layerwise_lr_multipliers(config.layerwise_lr_decay)
        optimizer = models.make_optimizer(config.optimizer, config.learning_rate, total_steps,
                                          config.warmup_ratio, config.weight_decay, lr_multipliers=multipliers)
        models.compile_rating_model(trainee, config.task, optimizer, label_smoothing=config.label_smoothing,
                                    steps_per_execution=32 if on_tpu else 1, **jit)


MEMBERS_DIR = "members"


def _train_members(config, verbose, models):
    """The seed ensemble's other members: this recipe with seeds seed + 1, ..., each trained into members/."""
    members = []
    for seed in range(config.seed + 1, config.seed + config.seeds):
        folder = os.path.join(config.output_dir, MEMBERS_DIR, "seed_%d" % seed)
        logger.info("Seed ensemble: member %d of %d (seed %d) -> %s", seed - config.seed + 1, config.seeds, seed,
                    folder)
        run_recipe(config.replace(seed=seed, seeds=1, output_dir=folder, title_adaptation=False, char_model=False,
                                  name="%s_seed_%d" % (config.name, seed)), verbose=verbose)
        members.append(models.load_model_folder(folder)[0])
    return members


def _fit_char_model(config, splits, model, batch_size):
    """Stack the character model when it wins on validation titles; the validation outputs after stacking."""
    from kerasbert.training.stacking import fit_char_model

    train, validation = splits["train"], splits["validation"]
    outputs, _ = fit_char_model(model, train["comment"].tolist(), train["star"].to_numpy(),
                                validation["comment"].tolist(), validation["star"].to_numpy(),
                                validation["movie"].astype(str).tolist(),
                                cap_per_title=config.validation_rows_per_title or DEFAULT_CAP, batch_size=batch_size)
    return outputs


def _fit_adaptation(config, splits, model, class_weight, batch_size, out_dir, outputs=None):
    """Choose the title adaptation on the validation titles and set it on `model` (None when they are too few)."""
    validation, train = splits["validation"], splits["train"]
    prior = None
    if config.task == "classification":
        prior = training_star_prior(train["star"], train["movie"], config.rows_per_title, class_weight)
    try:
        table = fit_title_adaptation(model, validation["comment"].tolist(), validation["star"].to_numpy(),
                                     validation["movie"].astype(str).tolist(), training_prior=prior,
                                     cap_per_title=config.validation_rows_per_title or DEFAULT_CAP,
                                     seed=config.seed, batch_size=batch_size, outputs=outputs)
    except ArgumentError as error:
        logger.warning("No title adaptation: %s", error.problem)
        return None
    table.to_csv(os.path.join(out_dir, ADAPTATION_TABLE), index=False, float_format="%.6g")
    return model.adaptation


def _log_plan(config, strategy, policy, splits):
    logger.info("Recipe %s: %s, %s encoder, %s, %d replica(s), policy %s -> %s", config.name, config.task,
                config.mode, config.backend, strategy.num_replicas_in_sync, policy, config.output_dir)
    if config.rows_per_title is not None:
        per_title = splits["train"]["movie"].value_counts().to_numpy()
        logger.info("Each epoch draws at most %d rows per title: %d of %d training rows, from %d titles",
                    config.rows_per_title, int(per_title.clip(max=config.rows_per_title).sum()),
                    len(splits["train"]), len(per_title))


def run_recipe(config, verbose=True):
    """Train, save and evaluate one recipe.

    Args:
        config: a `RecipeConfig` (`load_recipe(name, **overrides)`).
        verbose: Keras and tqdm progress bars; messages go to the logger.

    Returns:
        A summary dict (rows, epochs run, seconds, test metrics, report path),
        also written to `summary.json`.

    Writes to `config.output_dir`: `model.keras` (the `RatingModel`,
    tokenizer included), `recipe.json`, `training_log.csv`, `tensorboard/`,
    `checkpoints/`, and `report/` (metrics, figures and `report.md`).
    Re-running the same command after an interruption resumes from `backup/`.

    Example:
        >>> summary = run_recipe(load_recipe("douban_classify_frozen", epochs=1))
        >>> summary["test_metrics"]["accuracy"]
    """
    run_road = road(config.backend)
    keras, models = run_road.keras, run_road.models
    keras.utils.set_random_seed(config.seed)
    strategy, device_kind = run_road.distribution(config.strategy)
    on_tpu = device_kind == "tpu"
    policy = run_road.set_mixed_precision(config.mixed_precision, strategy)
    out_dir = config.output_dir
    # Every check before the first write: a run that fails on its inputs leaves an earlier run's folder as it was.
    check_output_folder(out_dir, follow_links=True)  # a file there, or above it, is the user's: refuse
    check_backup(config, out_dir, note=False)
    splits = load_splits(config, verbose)
    _log_plan(config, strategy, policy, splits)
    checkpoint = prepare_checkpoint(config, splits, verbose)
    batch_size = config.batch_size * strategy.num_replicas_in_sync  # the global batch
    # Trimming a checkpoint builds a model and so draws random numbers; seed again, so that a first
    # run and a re-run (which finds the trimmed copy) start from the same weights.
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        model = models.RatingModel.from_checkpoint(checkpoint, task=config.task, max_length=config.max_length,
                                                   name=config.name, **config.model)
    trainee, (train_ds, validation_ds) = _trainee_and_datasets(config, splits, model, checkpoint, batch_size,
                                                               strategy, on_tpu, verbose, run_road)
    _compile(config, model, trainee, train_ds, strategy, on_tpu, run_road)
    os.makedirs(out_dir, exist_ok=True)
    check_backup(config, out_dir)
    started = time.time()
    class_weight = _class_weight(config, splits)
    history = trainee.fit(train_ds, validation_data=validation_ds, epochs=config.epochs, class_weight=class_weight,
                          callbacks=make_callbacks(config, out_dir, verbose, run_road), verbose=1 if verbose else 0)
    train_seconds = time.time() - started
    forget_backup(out_dir)
    best = os.path.join(out_dir, "checkpoints", run_road.best_weights)
    if run_road.best_weights_saved(best):  # ModelCheckpoint saved a best epoch
        trainee.load_weights(best)
    adaptation, validation_outputs = None, None
    if config.seeds > 1:
        model.members = _train_members(config, verbose, models)
    if config.char_model:
        validation_outputs = _fit_char_model(config, splits, model, batch_size)
    if config.title_adaptation:
        adaptation = _fit_adaptation(config, splits, model, class_weight, batch_size, out_dir, validation_outputs)
    models.save_model_folder(model, config.to_dict(), out_dir)
    # Evaluate what was saved, as predict sees it (after training from the cache, the whole model).
    model = models.load_model_folder(out_dir)[0] if trainee is not model else model
    metrics, report_path = evaluate_frame(
        model, splits["test"], os.path.join(out_dir, "report"), batch_size=batch_size, fixed_length=on_tpu,
        title="%s — 豆瓣短评星级预测" % config.name,
        extra={"recipe": config.to_dict(), "train_rows": len(splits["train"]),
               "validation_rows": len(splits["validation"]), "test_rows": len(splits["test"]),
               "train_seconds": round(train_seconds, 1), "policy": policy,
               "replicas": strategy.num_replicas_in_sync,
               "title_adaptation": None if adaptation is None else adaptation.describe(),
               "char_model_weight": None if model.char_model is None else model.char_model.weight,
               "seeds": config.seeds},
        groups=splits["test"]["movie"].astype(str).tolist() if adaptation is not None else None,
        verbose=verbose,
    )
    unadapted = metrics.get("adaptation", {}).get("unadapted")
    summary = {
        "recipe": config.name,
        "train_rows": len(splits["train"]),
        "test_rows": len(splits["test"]),
        "epochs_run": len(history.history.get("loss", [])),
        "train_seconds": round(train_seconds, 1),
        "test_metrics": {k: metrics.get(k) for k in SUMMARY_METRICS},
        "title_adaptation": None if adaptation is None else adaptation.describe(),
        "report": report_path,
        "model_dir": out_dir,
        **({"test_metrics_rated_alone": {k: unadapted.get(k) for k in SUMMARY_METRICS}} if unadapted else {}),
    }
    atomic_write_json(os.path.join(out_dir, "summary.json"), summary)
    logger.info("Test metrics: %s\nReport: %s", summary["test_metrics"], report_path)
    return summary
