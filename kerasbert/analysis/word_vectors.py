"""Contextual word vectors: layer strategies, cosine distances and a 2-D MDS map."""

import re
from dataclasses import dataclass

import numpy as np

from kerasbert import layer_strategies
from kerasbert.utils.figures import new_figure, save_figure

# Seed 000's strategies (Devlin et al. 2019, feature-based NER table), spelled as everywhere else.
WORD_STRATEGIES = tuple(name for name in layer_strategies.LAYER_STRATEGIES if name != "embeddings")

# Seed 000's English example, and Chinese polysemy examples in the same form.
EXAMPLES = {
    "date": (["Joe took Alexandria out on a date.", "What is your date of birth?"], ["date"]),
    "yisi": (["这部电影很有意思。", "你这是什么意思？", "一点小意思，不成敬意。", "他对她有意思。"], ["意思"]),
    "da": (["他打人了。", "他在打篮球。", "他在打游戏。"], ["打"]),
}

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def combine_layers(hidden_states, strategy="last"):
    """(T, d') token vectors from (L + 1, T, d) hidden states by a layer strategy (`WORD_STRATEGIES`)."""
    hidden_states = np.asarray(hidden_states, dtype=float)
    if strategy not in WORD_STRATEGIES:
        raise ValueError(f"strategy must be one of {WORD_STRATEGIES}, got {strategy!r}")
    if hidden_states.ndim != 3:
        raise ValueError(f"hidden_states must be (layers, tokens, hidden), got shape {hidden_states.shape}")
    return layer_strategies.combine_layers(list(hidden_states), strategy, lambda states: np.sum(states, axis=0),
                                           lambda states: np.concatenate(states, axis=-1))


def segment_words(text, targets=()):
    """(word, start, end) spans of a text: jieba for Chinese, `\\w+` otherwise.

    Each occurrence of a target word becomes its own word, even inside a
    longer segment (jieba keeps 打电话 whole; the target 打 is cut out of it).
    """
    if _CJK_RE.search(text):
        import jieba

        spans = [(word, start, end) for word, start, end in jieba.tokenize(text) if _WORD_RE.search(word)]
    else:
        spans = [(match.group(), match.start(), match.end()) for match in _WORD_RE.finditer(text)]
    for target in targets:
        for match in re.finditer(re.escape(target), text):
            t_start, t_end = match.span()
            pieces = []
            for word, start, end in spans:
                if end <= t_start or start >= t_end or (start, end) == (t_start, t_end):
                    pieces.append((word, start, end))
                    continue
                if start < t_start:
                    pieces.append((text[start:t_start], start, t_start))
                if end > t_end:
                    pieces.append((text[t_end:end], t_end, end))
            pieces.append((target, t_start, t_end))
            spans = sorted(set(pieces), key=lambda span: (span[1], span[2]))
    return spans


@dataclass
class WordVector:
    word: str
    sentence: int  # index of its sentence
    label: str  # "word (sentence number)", unique in a table
    vector: np.ndarray
    token_positions: list
    is_target: bool


def word_vectors(encoded, strategy="last", targets=(), targets_only=False):
    """One vector per word of each encoded text: the mean of its tokens' vectors.

    `encoded`: `EncodedText` list (needs character offsets, i.e. a fast
    tokenizer). A word's tokens are the content tokens whose character span
    overlaps the word's; when one token spans several words (a sentence-
    piece like 打电话), those words share it.
    """
    targets = [str(target) for target in targets]
    vectors = []
    for index, item in enumerate(encoded):
        if not np.any(item.offsets):
            raise ValueError("word vectors need character offsets: use a fast (Rust) tokenizer")
        token_vectors = combine_layers(item.hidden_states, strategy)
        content = item.content_positions()
        for word, start, end in segment_words(item.text, targets):
            is_target = word in targets
            if targets_only and not is_target:
                continue
            positions = [i for i in content if item.offsets[i, 0] < end and item.offsets[i, 1] > start]
            if not positions:  # truncated away
                continue
            vectors.append(WordVector(word, index, f"{word} ({index + 1})", token_vectors[positions].mean(axis=0),
                                      positions, is_target))
    return vectors


def cosine_distances(vectors):
    """(n, n) cosine distance matrix (sklearn), exact zeros on the diagonal."""
    from sklearn.metrics.pairwise import cosine_distances as sk_cosine_distances

    distances = sk_cosine_distances(np.asarray(vectors, dtype=float))
    np.fill_diagonal(distances, 0.0)
    return np.clip(distances, 0.0, 2.0)


def mds_embedding(distances, seed=0, n_components=2):
    """Metric MDS (scikit-learn SMACOF) of a precomputed dissimilarity matrix."""
    from sklearn.manifold import MDS

    distances = np.asarray(distances, dtype=float)
    if distances.ndim != 2 or distances.shape[0] != distances.shape[1]:
        raise ValueError(f"distances must be a square matrix, got shape {distances.shape}")
    distances = (distances + distances.T) / 2
    kwargs = dict(n_components=n_components, n_init=4, max_iter=1000, eps=1e-9, random_state=seed)
    try:
        mds = MDS(metric="precomputed", metric_mds=True, init="random", **kwargs)
    except TypeError:  # scikit-learn < 1.8
        mds = MDS(dissimilarity="precomputed", **kwargs)
    return mds.fit_transform(distances)


def target_distance_summary(words, distances):
    """For each target-word occurrence: distance to the other occurrences, own vs other sentences' words.

    Returns rows (dicts) with `label`, `to_targets` {label: distance},
    `own_sentence_mean` and `other_sentences_mean` (mean distance to the
    non-target words of its own sentence and of the others).
    """
    rows = []
    for i, word in enumerate(words):
        if not word.is_target:
            continue
        own = [distances[i, j] for j, other in enumerate(words)
               if j != i and not other.is_target and other.sentence == word.sentence]
        others = [distances[i, j] for j, other in enumerate(words)
                  if not other.is_target and other.sentence != word.sentence]
        rows.append({
            "label": word.label,
            "to_targets": {other.label: float(distances[i, j]) for j, other in enumerate(words)
                           if other.is_target and j != i},
            "own_sentence_mean": float(np.mean(own)) if own else float("nan"),
            "other_sentences_mean": float(np.mean(others)) if others else float("nan"),
        })
    return rows


def plot_distance_matrix(distances, labels, out_path, title="余弦距离"):
    distances = np.asarray(distances, dtype=float)
    size = max(5, 0.38 * len(labels) + 2)
    figure = new_figure((size + 1, size))
    ax = figure.subplots()
    image = ax.imshow(distances, cmap="magma_r", vmin=0)
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels, fontsize=8, rotation=90)
    ax.set_yticks(ticks, labels, fontsize=8)
    if len(labels) <= 16:
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, f"{distances[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if distances[i, j] > 0.6 * distances.max() else "black")
    ax.set_title(title)
    return save_figure(figure, out_path)


def plot_word_map(points, words, out_path, title="MDS"):
    """2-D map of word vectors, coloured by sentence, target words in bold."""
    points = np.asarray(points, dtype=float)
    figure = new_figure((8, 6.5))
    ax = figure.subplots()
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    for (x, y), word in zip(points, words):
        color = cmap(word.sentence % 10)
        ax.scatter([x], [y], s=80 if word.is_target else 25, color=color,
                   marker="*" if word.is_target else "o")
        ax.annotate(word.label, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=9, color=color,
                    fontweight="bold" if word.is_target else "normal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return save_figure(figure, out_path)
