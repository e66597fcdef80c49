"""The one runner behind every recipe: data -> encoder -> mix -> pool -> head -> report."""

import os
import tempfile
import time

from kerasbert._backend import keras, tf
from kerasbert.distribute import global_batch_size, resolve_strategy, set_mixed_precision, strategy_kind
from kerasbert.models import build_rating_model, compile_rating_model
from kerasbert.training.evaluation import evaluate_frame, save_trained_model
from kerasbert.training.optimization import make_optimizer
from kerasbert.utils.io import atomic_write_json

SPLITS = ("train", "validation", "test")


def load_splits(config, verbose=True):
    """{split: DataFrame(movie, star, comment)} from prepared splits or a raw CSV."""
    from kerasbert.data import load_recipe_splits

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
    import hashlib

    import pandas as pd

    from kerasbert.checkpoints import cache_root, trim_checkpoint

    texts = sorted(set(pd.concat([splits[name]["comment"] for name in SPLITS]).tolist()))
    digest = hashlib.sha256("\n".join([config.checkpoint] + texts).encode("utf-8")).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in config.checkpoint)
    out_dir = os.path.join(cache_root(), "trimmed", "%s-%s" % (name, digest))
    if os.path.isdir(out_dir):
        return out_dir
    with tempfile.TemporaryDirectory(prefix="kerasbert-corpus-") as tmp:
        corpus = os.path.join(tmp, "corpus.csv")
        pd.DataFrame({"comment": texts}).to_csv(corpus, index=False)
        if verbose:
            print("Trimming %s to the %d texts' vocabulary -> %s" % (config.checkpoint, len(texts), out_dir))
        return trim_checkpoint(config.checkpoint, corpus, "comment", out_dir, progress=verbose)


def make_callbacks(config, out_dir, verbose=True):
    monitor, mode = config.monitor
    checkpoints = os.path.join(out_dir, "checkpoints")
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.BackupAndRestore(
            os.path.join(out_dir, "backup"), save_freq=config.backup_every_steps or "epoch"
        ),
        keras.callbacks.ModelCheckpoint(
            os.path.join(checkpoints, "best"),
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            save_weights_only=True,
            verbose=int(bool(verbose)),
        ),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=config.early_stopping_patience),
        keras.callbacks.CSVLogger(os.path.join(out_dir, "training_log.csv"), append=True),
        keras.callbacks.TensorBoard(os.path.join(out_dir, "tensorboard")),
    ]
    if config.gradual_unfreezing:
        from kerasbert.callbacks import GradualUnfreezing

        callbacks.append(GradualUnfreezing(initial_blocks=config.top_k or 1, verbose=int(bool(verbose))))
    return callbacks


def _datasets(config, splits, tokenizer, batch_size, strategy, on_tpu):
    from kerasbert.data import make_dataset

    common = dict(tokenizer=tokenizer, task=config.task, batch_size=batch_size, max_length=config.max_length,
                  fixed_length=on_tpu, drop_remainder=on_tpu, strategy=strategy)
    train = make_dataset(splits["train"]["comment"].tolist(), splits["train"]["star"].to_numpy(),
                         shuffle=True, seed=config.seed, **_title_cap(config, splits), **common)
    validation = make_dataset(splits["validation"]["comment"].tolist(), splits["validation"]["star"].to_numpy(),
                              sample_weights=_validation_weights(config, splits), **common)
    return train, validation


def _validation_weights(config, splits):
    """Per-row validation weights capping each title's weight (None: every row alike).

    Rescaled to average 1: Keras divides a weighted loss by the row count, so
    `val_loss` then reads as the weighted mean, on the training loss's scale.
    """
    if config.validation_rows_per_title is None:
        return None
    from kerasbert.data.title_sampling import title_weights

    weights = title_weights(splits["validation"]["movie"], config.validation_rows_per_title)
    return (weights / weights.mean()).astype("float32")


def _title_cap(config, splits):
    """The per-title cap on training rows per epoch, as pipeline arguments."""
    if config.rows_per_title is None:
        return {}
    return {"titles": splits["train"]["movie"].astype(str).tolist(), "rows_per_title": config.rows_per_title}


def _class_weight(config, splits, verbose):
    """Keras `class_weight` for `class_weight="balanced"` (labels 0-4), else None."""
    if config.class_weight is None:
        return None
    from kerasbert.data.title_sampling import balanced_star_weights
    from kerasbert.tasks import NUM_STARS

    train = splits["train"]
    weights = balanced_star_weights(train["star"].to_numpy() - 1, train["movie"],
                                    config.rows_per_title, num_classes=NUM_STARS)
    if verbose:
        print("Star weights (balanced): %s" % ", ".join("%d★ %.2f" % (k + 1, w) for k, w in weights.items()))
    return weights


def _cache_plan(config, model, on_tpu, verbose):
    """The encoder cache plan when training from cached states wins, else None."""
    if not config.cache or on_tpu or config.gradual_unfreezing:
        return None
    from kerasbert.training.encoder_cache import cache_plan, describe_plan

    plan = cache_plan(model)
    if plan is not None and verbose:
        print("Training from the encoder cache: %s" % describe_plan(plan))
    return plan


def _cached_datasets(config, splits, model, tokenizer, checkpoint, plan, batch_size, verbose):
    from kerasbert.training.encoder_cache import build_or_load_cache, cached_dataset

    datasets = []
    for name, shuffle in (("train", True), ("validation", False)):
        store = build_or_load_cache(model, tokenizer, splits[name]["comment"].tolist(), config.max_length, plan,
                                    checkpoint, verbose=verbose, description="%s texts" % name)
        datasets.append(cached_dataset(store, splits[name]["star"].to_numpy(), config.task, batch_size,
                                       config.max_length, shuffle=shuffle, seed=config.seed,
                                       **(_title_cap(config, splits) if name == "train"
                                          else {"sample_weights": _validation_weights(config, splits)})))
    return datasets


def _use_xla(config, on_tpu):
    """XLA where asked for; TPUs compile anyway."""
    return bool(config.jit_compile) and not on_tpu


def run_recipe(config, verbose=True):
    """Train, save and evaluate one recipe; returns a summary dict.

    Writes to `config.output_dir`: `model.keras`, `tokenizer/`,
    `recipe.json`, `training_log.csv`, `tensorboard/`, `checkpoints/`,
    and `report/` (metrics, figures and `report.md`). Re-running the same
    command after an interruption resumes from `backup/`.
    """
    from kerasbert.checkpoints import load_tokenizer

    keras.utils.set_random_seed(config.seed)
    strategy = resolve_strategy(config.strategy)
    on_tpu = strategy_kind(strategy) == "tpu"
    policy = set_mixed_precision(config.mixed_precision, strategy)
    out_dir = config.output_dir
    os.makedirs(out_dir, exist_ok=True)
    if verbose:
        print("Recipe %s: %s, %s encoder, %d replica(s), policy %s -> %s"
              % (config.name, config.task, config.mode, strategy.num_replicas_in_sync, policy, out_dir))

    splits = load_splits(config, verbose)
    if config.rows_per_title is not None and verbose:
        per_title = splits["train"]["movie"].value_counts().to_numpy()
        print("Each epoch draws at most %d rows per title: %d of %d training rows, from %d titles"
              % (config.rows_per_title, int((per_title.clip(max=config.rows_per_title)).sum()),
                 len(splits["train"]), len(per_title)))
    checkpoint = prepare_checkpoint(config, splits, verbose)
    tokenizer = load_tokenizer(checkpoint)
    batch_size = global_batch_size(config.batch_size, strategy)

    with strategy.scope():
        model = build_rating_model(
            checkpoint, task=config.task, mode=config.mode, top_k=config.top_k, layers=config.layers,
            pooling=config.pooling, hidden_units=config.hidden_units, dropout=config.dropout,
            attention_units=config.attention_units, num_hops=config.num_hops,
            penalty_coefficient=config.penalty_coefficient, merge_hops=config.merge_hops,
            score_range=config.score_range, name=config.name,
        )
    plan = _cache_plan(config, model, on_tpu, verbose)
    if plan is not None:
        from kerasbert.training.encoder_cache import model_on_cache

        train_ds, validation_ds = _cached_datasets(config, splits, model, tokenizer, checkpoint, plan, batch_size,
                                                   verbose)
        with strategy.scope():
            trainee = model_on_cache(model, plan)
    else:
        train_ds, validation_ds = _datasets(config, splits, tokenizer, batch_size, strategy, on_tpu)
        trainee = model
    # The dataset's own count: length buckets add up to one partial batch each.
    total_steps = max(int(train_ds.cardinality().numpy()), 1) * config.epochs
    with strategy.scope():
        multipliers = None
        if config.layerwise_lr_decay is not None:
            multipliers = model.get_layer("encoder").layerwise_lr_multipliers(config.layerwise_lr_decay)
        optimizer = make_optimizer(config.optimizer, config.learning_rate, total_steps,
                                   config.warmup_ratio, config.weight_decay, lr_multipliers=multipliers)
        compile_rating_model(trainee, config.task, optimizer, label_smoothing=config.label_smoothing,
                             steps_per_execution=32 if on_tpu else 1, jit_compile=_use_xla(config, on_tpu))

    started = time.time()
    history = trainee.fit(train_ds, validation_data=validation_ds, epochs=config.epochs,
                          class_weight=_class_weight(config, splits, verbose),
                          callbacks=make_callbacks(config, out_dir, verbose), verbose=1 if verbose else 0)
    train_seconds = time.time() - started
    best = os.path.join(out_dir, "checkpoints", "best")
    if os.path.exists(best + ".index"):  # ModelCheckpoint saved a best epoch
        trainee.load_weights(best)
    save_trained_model(model, tokenizer, config, out_dir)
    if trainee is not model:
        # Evaluate what was saved: the whole model, encoder and all, as predict sees it.
        from kerasbert.training.evaluation import load_trained_model

        model = load_trained_model(out_dir)[0]

    metrics, report_path = evaluate_frame(
        model, tokenizer, splits["test"], config.task, os.path.join(out_dir, "report"),
        max_length=config.max_length, batch_size=batch_size, fixed_length=on_tpu,
        title="%s — 豆瓣短评星级预测" % config.name,
        extra={"recipe": config.to_dict(), "train_rows": len(splits["train"]),
               "validation_rows": len(splits["validation"]), "test_rows": len(splits["test"]),
               "train_seconds": round(train_seconds, 1), "policy": policy,
               "replicas": strategy.num_replicas_in_sync},
        verbose=verbose,
    )
    summary = {
        "recipe": config.name,
        "train_rows": len(splits["train"]),
        "test_rows": len(splits["test"]),
        "epochs_run": len(history.history.get("loss", [])),
        "train_seconds": round(train_seconds, 1),
        "test_metrics": {k: metrics.get(k) for k in ("accuracy", "within_one_accuracy", "macro_f1", "mae", "rmse",
                                                     "quadratic_weighted_kappa")},
        "report": report_path,
        "model_dir": out_dir,
    }
    atomic_write_json(os.path.join(out_dir, "summary.json"), summary)
    if verbose:
        print("Test metrics: %s\nReport: %s" % (summary["test_metrics"], report_path))
    return summary
