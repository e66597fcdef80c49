#!/usr/bin/env python
"""Streaming `kerasbert predict`: peak memory and rows/s on a generated CSV.

    python benchmarks/bench_predict_streaming.py                # 2,000,000 rows
    python benchmarks/bench_predict_streaming.py --rows 50000   # a quick check

Generates a `id,movie,comment` CSV of `--rows` rows (comment lengths 2-120
characters, a few bad rows) in a temporary folder, saves a tiny random
rating model (2-layer BERT, hidden size 16: the model is not what is
measured), and runs `kerasbert.training.predict.predict_csv` on it.

Reports rows/s and the process RSS: after loading the model (baseline), the
peak during prediction, and the RSS when 10% and 100% of the rows were
written. Flat memory means peak - baseline does not grow with `--rows`
(compare two sizes) and RSS at 100% is close to RSS at 10%.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time

import kerasbert  # noqa: F401  (sets TF_USE_LEGACY_KERAS)

CHARS = "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年好看电影剧情演员太难无聊经典推荐还行较差很"


def rss_mib():
    """Resident set size of this process now (Linux /proc)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """Samples RSS every `interval` seconds in a thread; `.peak` in MiB."""

    def __init__(self, interval=0.05):
        self.interval = interval
        self.peak = rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_mib())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


def write_input(path, rows, seed=0):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("id,movie,comment\n")
        for i in range(rows):
            if i % 1000 == 999:
                handle.write("%d,电影%d\n" % (i, i % 500))  # malformed: kept with a status
                continue
            length = min(int(rng.expovariate(1 / 30.0)) + 2, 120)
            text = "".join(rng.choice(CHARS) for _ in range(length))
            handle.write("%d,电影%d,%s\n" % (i, i % 500, text))


def write_model(folder, max_length):
    from transformers import BertConfig, BertTokenizerFast, TFBertModel

    from kerasbert import RatingModel
    from kerasbert.models import save_model_folder
    from kerasbert.training.config import RecipeConfig

    checkpoint = os.path.join(folder, "encoder")
    os.makedirs(checkpoint)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    with open(os.path.join(checkpoint, "vocab.txt"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(specials + sorted(set(CHARS))) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=os.path.join(checkpoint, "vocab.txt"))
    tokenizer.save_pretrained(checkpoint)
    encoder = TFBertModel(BertConfig(vocab_size=len(specials) + len(set(CHARS)), hidden_size=16,
                                     num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                                     max_position_embeddings=max_length))
    encoder(encoder.dummy_inputs)
    encoder.save_pretrained(checkpoint)
    arguments = dict(mode="frozen", layers="last", pooling="mean", hidden_units=[])
    model = RatingModel.from_checkpoint(checkpoint, task="classification", max_length=max_length,
                                        tokenizer=tokenizer, **arguments)
    config = RecipeConfig(name="bench", checkpoint=checkpoint, model=arguments, max_length=max_length)
    model_dir = os.path.join(folder, "model")
    save_model_folder(model, config.to_dict(), model_dir)
    return model_dir


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunk-rows", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    import kerasbert.training.predict as predict_module
    from kerasbert.models import load_model_folder

    with tempfile.TemporaryDirectory(prefix="kerasbert-bench-predict-") as folder:
        source = os.path.join(folder, "input.csv")
        started = time.time()
        write_input(source, args.rows)
        generate_seconds = time.time() - started
        model = load_model_folder(write_model(folder, args.max_length))[0]
        predict_module.predict_scores(model, ["好看"])  # warm up
        baseline = rss_mib()
        marks = {}
        real_iter = predict_module.iter_row_chunks

        def iter_with_marks(*a, **k):
            done = 0
            for chunk in real_iter(*a, **k):
                yield chunk
                done += len(chunk)
                if "10%" not in marks and done >= args.rows * 0.1:
                    marks["10%"] = rss_mib()
            marks["100%"] = rss_mib()

        predict_module.iter_row_chunks = iter_with_marks
        output = os.path.join(folder, "predictions.csv")
        with PeakRss() as peak:
            started = time.time()
            summary = predict_module.predict_csv(None, source, output_path=output, batch_size=args.batch_size,
                                                 chunk_rows=args.chunk_rows, verbose=False, model=model)
            seconds = time.time() - started
        results = {
            "rows": summary["rows"],
            "rated": summary["rated"],
            "input_mib": round(os.path.getsize(source) / 2**20, 1),
            "output_mib": round(os.path.getsize(output) / 2**20, 1),
            "generate_seconds": round(generate_seconds, 1),
            "predict_seconds": round(seconds, 1),
            "rows_per_second": round(summary["rows"] / seconds, 1),
            "rss_baseline_mib": round(baseline, 1),
            "rss_peak_mib": round(peak.peak, 1),
            "rss_peak_over_baseline_mib": round(peak.peak - baseline, 1),
            "rss_at_10_percent_mib": round(marks.get("10%", float("nan")), 1),
            "rss_at_100_percent_mib": round(marks.get("100%", float("nan")), 1),
            "chunk_rows": args.chunk_rows,
            "batch_size": args.batch_size,
            "max_length": args.max_length,
            "cpu_count": os.cpu_count(),
        }
    print(json.dumps(results, indent=2))
    if args.json:
        from kerasbert.utils.io import atomic_write_json

        atomic_write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
