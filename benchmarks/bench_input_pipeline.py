#!/usr/bin/env python
"""Input-pipeline throughput vs. a small model's training throughput (same CPU).

    python benchmarks/bench_input_pipeline.py [--n 20000] [--csv ../shared/data/douban/douban_comments.csv]

Reports, in examples/s:
  * tokenization (fast tokenizer, batch encoding, truncation at max_length);
  * tf.data iteration of the built dataset (bucketed dynamic padding, and
    fixed-length TPU mode), tokenization excluded;
  * training steps of MiniLM-L6 (kerasbert.checkpoints.resolve_checkpoint
    when available, else the same architecture from its config with random
    weights: same compute) + masked mean pool + Dense(5), batch 32;
and the ratio pipeline / training (goal: >= 10).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import kerasbert  # noqa: E402,F401
from kerasbert._backend import keras, tf  # noqa: E402
from kerasbert.data import read_ratings_csv  # noqa: E402
from kerasbert.data.pipeline import (  # noqa: E402
    dataset_from_encoded,
    pad_id,
    encode_labels,
    encode_texts,
    resolve_tokenizer,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


CHECKPOINT = "minilm:all-MiniLM-L6-v2"


def iterate(ds):
    start = time.perf_counter()
    n = 0
    for features, labels in ds:
        n += int(labels.shape[0])
    return n, time.perf_counter() - start


def build_model(checkpoint):
    """The package's own fine-tuning model: the encoder's last layer, mean-pooled, 5 classes."""
    from kerasbert.models import build_rating_model

    model = build_rating_model(checkpoint, mode="full", layers="last", pooling="mean", hidden_units=())
    return model, checkpoint


def train_rate(model, ds, steps, warmup=3):
    optimizer = keras.optimizers.Adam(2e-5)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()  # the model outputs probabilities

    @tf.function(reduce_retracing=True)
    def step(features, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(features, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    batches = list(ds.take(steps + warmup))
    for features, labels in batches[:warmup]:
        step(features, labels)
    start = time.perf_counter()
    n = 0
    lengths = []
    for features, labels in batches[warmup:]:
        step(features, labels).numpy()
        n += int(labels.shape[0])
        lengths.append(int(features["input_ids"].shape[1]))
    return n, time.perf_counter() - start, lengths


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", default=os.path.join(REPO, "..", "shared", "data", "douban", "douban_comments.csv"))
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--tokenizer", default=None, help="default: the MiniLM tokenizer on disk")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--train-steps", type=int, default=10)
    args = parser.parse_args()

    frame = read_ratings_csv(args.csv, progress=False)
    frame = frame.sample(n=min(args.n, len(frame)), random_state=0)
    texts, stars = frame["comment"].tolist(), frame["star"].to_numpy()
    tokenizer = resolve_tokenizer(args.tokenizer or CHECKPOINT)
    print("corpus: %d comments from %s; tokenizer %s (fast=%s); max_length %d; batch %d; CPU threads %d"
          % (len(texts), args.csv, getattr(tokenizer, "name_or_path", "?"), getattr(tokenizer, "is_fast", "?"),
             args.max_length, args.batch_size, os.cpu_count()))

    start = time.perf_counter()
    flat, lengths = encode_texts(texts, tokenizer, max_length=args.max_length, progress=False)
    t_tok = time.perf_counter() - start
    labels = encode_labels(stars, "classification")
    print("tokenization:               %9.0f examples/s  (%.2f s; mean %.1f tokens, %.1f%% truncated)"
          % (len(texts) / t_tok, t_tok, lengths.mean(), 100.0 * (lengths >= args.max_length).mean()))

    def build(**kw):
        return dataset_from_encoded(flat, lengths, (labels,), pad=pad_id(tokenizer), batch_size=args.batch_size,
                                     max_length=args.max_length, shuffle=True, seed=0, **kw)

    rates = {}
    for name, kw in [("bucketed (dynamic padding)", {}), ("fixed length (TPU mode)", {"fixed_length": True})]:
        ds = build(**kw)
        iterate(ds)  # warm-up epoch
        n, t = iterate(ds)
        rates[name] = n / t
        print("tf.data %-26s %9.0f examples/s  (epoch of %d in %.2f s)" % (name + ":", n / t, n, t))

    model, source = build_model(CHECKPOINT)
    n, t, seq = train_rate(model, build(), args.train_steps)
    train = n / t
    print("training MiniLM-L6 + mean pool + Dense(5): %.1f examples/s (%d steps of %d, mean padded length %.0f; %s)"
          % (train, args.train_steps, args.batch_size, np.mean(seq), source))
    n, t, _ = train_rate(model, build(fixed_length=True), max(3, args.train_steps // 2), warmup=3)
    print("training, fixed length %d:              %.1f examples/s" % (args.max_length, n / t))
    bucketed = rates["bucketed (dynamic padding)"]
    print("ratio pipeline/training (bucketed): %.0fx  (tokenization/training: %.0fx)  goal >= 10x: %s"
          % (bucketed / train, (len(texts) / t_tok) / train, "OK" if bucketed / train >= 10 else "NOT MET"))


if __name__ == "__main__":
    main()
