"""Which layers carry the rating? A logistic-regression probe per hidden layer."""

import numpy as np

from kerasbert.analysis.encoders import encode_texts
from kerasbert.errors import ArgumentError
from kerasbert.utils.figures import new_figure, save_figure


def layer_features(encoder, texts, max_length=64, batch_size=32):
    """(L + 1, n, hidden) mean-pooled features of every hidden layer (0 = embeddings)."""
    texts = [str(text) for text in texts]
    per_layer = []
    for start in range(0, len(texts), batch_size):
        encoded = encode_texts(encoder, texts[start:start + batch_size], max_length, batch_size)
        per_layer.append(np.stack([item.hidden_states.mean(axis=1) for item in encoded], axis=1))
    return np.concatenate(per_layer, axis=1)


def probe_layers(train_features, train_labels, val_features, val_labels, seed=0):
    """Validation accuracy of a logistic regression on each layer's features.

    `*_features`: (layers, n, d). Features are standardised (fitted on the
    training rows). Returns (accuracies per layer, majority-class accuracy).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_labels, val_labels = np.asarray(train_labels), np.asarray(val_labels)
    if len(np.unique(train_labels)) < 2:
        raise ArgumentError("train_labels", "the probe needs at least two stars among the training rows")
    accuracies = []
    for train_x, val_x in zip(train_features, val_features):
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1, random_state=seed))
        probe.fit(train_x, train_labels)
        accuracies.append(float(probe.score(val_x, val_labels)))
    values, counts = np.unique(train_labels, return_counts=True)
    majority = float(np.mean(val_labels == values[np.argmax(counts)]))
    return np.asarray(accuracies), majority


def plot_probe_accuracies(accuracies, out_path, majority=None, title="逐层探针：验证集准确率"):
    accuracies = np.asarray(accuracies, dtype=float)
    labels = ["嵌入"] + [str(layer) for layer in range(1, len(accuracies))]
    figure = new_figure((max(6, 0.5 * len(accuracies) + 2), 4.2))
    ax = figure.subplots()
    positions = np.arange(len(accuracies))
    bars = ax.bar(positions, accuracies, color="#4c72b0")
    ax.bar_label(bars, labels=[f"{a:.3f}" for a in accuracies], fontsize=8)
    if majority is not None:
        ax.axhline(majority, color="gray", linestyle="--", linewidth=0.8, label=f"多数类 (majority) {majority:.3f}")
        ax.legend()
    ax.set_xticks(positions, labels)
    ax.set_xlabel("层 (layer; 0 = 嵌入层)")
    ax.set_ylabel("验证准确率 (accuracy)")
    low = min(accuracies.min(), majority if majority is not None else 1.0)
    ax.set_ylim(max(0.0, low - 0.05), min(1.0, accuracies.max() + 0.05))
    ax.set_title(title)
    return save_figure(figure, out_path)
