"""Cross-domain geometry: do sentence vectors separate by polarity or by domain?"""

import numpy as np
import pandas as pd

from kerasbert.data import find_column, read_table
from kerasbert.data.reader import text_skip_reason
from kerasbert.errors import ArgumentError, InputError
from kerasbert.utils.figures import new_figure, save_figure

TEXT_COLUMNS = ("review", "text", "comment", "sentence", "content")
LABEL_COLUMNS = ("label", "polarity", "sentiment", "y")


def read_binary_csv(path, text_column=None, label_column=None):
    """(DataFrame with `text` and `label` 0/1, skip counts by reason) from any labelled CSV.

    Read with the package's CSV reader (`kerasbert.data.read_table`:
    encodings, delimiters, line numbers). Columns default to the first of
    `TEXT_COLUMNS` / `LABEL_COLUMNS` present. Records that cannot be read,
    have an empty text or a label other than 0/1 are skipped and counted.
    """
    from collections import Counter

    texts, labels, skipped = [], [], Counter()
    with read_table(path) as table:
        def pick(wanted, defaults, kind):
            if wanted is not None:
                return table.column(wanted)
            for name in defaults:
                index = find_column(table.header, name)
                if index is not None:
                    return index
            raise InputError(path, "no %s column found among %s; name it with --%s-column"
                             % (kind, ", ".join(map(repr, table.header)), kind), table.header_line)

        i_text = pick(text_column, TEXT_COLUMNS, "text")
        i_label = pick(label_column, LABEL_COLUMNS, "label")
        for record in table:
            reason = text_skip_reason(record, table.header, i_text)
            if reason:
                skipped[reason] += 1
            elif record.fields[i_label].strip() not in ("0", "1", "0.0", "1.0"):
                skipped["label_not_0_or_1"] += 1
            else:
                texts.append(record.fields[i_text].strip())
                labels.append(int(float(record.fields[i_label])))
    data = pd.DataFrame({"text": texts, "label": np.asarray(labels, dtype=int)})
    if data["label"].nunique() < 2:
        raise InputError(path, "needs rows with both labels 0 and 1 (skipped: %s)" % dict(skipped))
    return data, dict(skipped)


def balanced_sample(frame, rows, seed=0):
    """Up to `rows` rows, half of each label where possible, in a seeded order."""
    rng = np.random.RandomState(seed)
    per_label = rows // 2
    parts = []
    for label in (0, 1):
        group = frame[frame["label"] == label]
        parts.append(group.iloc[rng.permutation(len(group))[:per_label]])
    return pd.concat(parts).reset_index(drop=True)


def separation_scores(features, labels, seed=0, folds=5, neighbours=5):
    """How well `labels` separate `features` (cosine geometry).

    silhouette: mean silhouette (cosine distance) by label; centroid_accuracy
    and knn_accuracy: `folds`-fold cross-validated accuracy of a nearest-
    centroid and a k-NN (cosine) classifier on L2-normalised vectors.
    """
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
    from sklearn.preprocessing import normalize

    features = normalize(np.asarray(features, dtype=float))
    labels = np.asarray(labels)
    folds = int(min(folds, np.bincount(np.unique(labels, return_inverse=True)[1]).min()))
    if folds < 2:
        raise ArgumentError("labels", "separation_scores needs at least 2 examples of each label")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return {
        "silhouette": float(silhouette_score(features, labels, metric="cosine")),
        "centroid_accuracy": float(cross_val_score(NearestCentroid(), features, labels, cv=splitter).mean()),
        "knn_accuracy": float(cross_val_score(KNeighborsClassifier(neighbours, metric="cosine"), features,
                                              labels, cv=splitter).mean()),
    }


MIN_PER_LABEL = 2  # separation_scores' cross-validation needs two folds of each label


def too_few_rows(polarity, domain):
    """Why the geometry cannot be measured on these rows (a sentence), or None when it can."""
    polarity, domain = np.asarray(polarity), np.asarray(domain)
    for name in np.unique(domain) if len(domain) else [None]:
        rows = polarity[domain == name] if name is not None else polarity
        counts = [int((rows == label).sum()) for label in (0, 1)]
        if min(counts) < MIN_PER_LABEL:
            return ("domain %s has %d negative and %d positive rows; the geometry needs at least %d of each"
                    % (name, counts[0], counts[1], MIN_PER_LABEL))
    return None


def geometry_report(features, polarity, domain, seed=0):
    """Separation by polarity and by domain (and polarity within each domain)."""
    polarity, domain = np.asarray(polarity), np.asarray(domain)
    report = {"polarity": separation_scores(features, polarity, seed)}
    if len(np.unique(domain)) > 1:
        report["domain"] = separation_scores(features, domain, seed)
    for name in np.unique(domain):
        mask = domain == name
        report[f"polarity within {name}"] = separation_scores(np.asarray(features)[mask], polarity[mask], seed)
    return report


def verdict(pretrained, finetuned):
    """Does fine-tuning move the geometry from topic (domain) towards polarity?"""
    gained = finetuned["polarity"]["silhouette"] - pretrained["polarity"]["silhouette"]
    knn_gained = finetuned["polarity"]["knn_accuracy"] - pretrained["polarity"]["knn_accuracy"]
    lines = [f"polarity silhouette {pretrained['polarity']['silhouette']:+.3f} -> "
             f"{finetuned['polarity']['silhouette']:+.3f}, polarity k-NN accuracy "
             f"{pretrained['polarity']['knn_accuracy']:.3f} -> {finetuned['polarity']['knn_accuracy']:.3f}"]
    domain_lost = None
    if "domain" in pretrained and "domain" in finetuned:
        domain_lost = pretrained["domain"]["silhouette"] - finetuned["domain"]["silhouette"]
        lines.append(f"domain silhouette {pretrained['domain']['silhouette']:+.3f} -> "
                     f"{finetuned['domain']['silhouette']:+.3f}")
    agrees = gained > 0 and knn_gained >= 0 and (domain_lost is None or domain_lost > 0)
    lines.append("The numbers agree with the seed's claim (more polarity, less domain structure after fine-tuning)."
                 if agrees else "The numbers do NOT fully agree with the seed's claim.")
    return agrees, lines


def plot_geometry(points, polarity, domain, out_path, title):
    """2-D map: colour = polarity, marker = domain."""
    figure = new_figure((7.5, 6.5))
    ax = figure.subplots()
    markers = "os^Dv<>P*X"
    colors = {0: "#c44e52", 1: "#55a868"}
    names = {0: "负面 (negative)", 1: "正面 (positive)"}
    for d_index, name in enumerate(np.unique(domain)):
        for label in (0, 1):
            mask = (np.asarray(domain) == name) & (np.asarray(polarity) == label)
            if mask.any():
                ax.scatter(points[mask, 0], points[mask, 1], s=12, alpha=0.7, color=colors[label],
                           marker=markers[d_index % len(markers)], edgecolors="none",
                           label=f"{name} · {names[label]} ({mask.sum()})")
    ax.legend(fontsize=8, markerscale=1.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    return save_figure(figure, out_path)
