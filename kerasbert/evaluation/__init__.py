"""Evaluation: star metrics, title-level scores, figures and the Markdown report.

NumPy, scikit-learn and matplotlib only: no model, no TensorFlow. Both Keras
roads report through here.

* `rating_metrics`, `prepare_predictions` (kerasbert.evaluation.metrics)
* `title_scores`, `paired_difference`, `per_title_table` (kerasbert.evaluation.title_scores)
* figures (kerasbert.evaluation.plots, kerasbert.evaluation.highlight)
* `write_evaluation_report` (kerasbert.evaluation.report)
"""

from kerasbert.evaluation.highlight import attention_highlights_html, attention_highlights_png
from kerasbert.evaluation.metrics import rating_metrics, round_to_stars
from kerasbert.evaluation.plots import (
    plot_attention_heatmap,
    plot_confusion_matrices,
    plot_layer_weights,
    plot_rating_histograms,
    plot_tsne,
    within_one_confusion,
)
from kerasbert.evaluation.report import (
    per_movie_table,
    predictions_table,
    worst_errors_table,
    write_evaluation_report,
)
from kerasbert.evaluation.title_scores import paired_difference, per_title_table, title_scores, title_spread

__all__ = [
    "attention_highlights_html",
    "attention_highlights_png",
    "paired_difference",
    "per_movie_table",
    "per_title_table",
    "plot_attention_heatmap",
    "plot_confusion_matrices",
    "plot_layer_weights",
    "plot_rating_histograms",
    "plot_tsne",
    "predictions_table",
    "rating_metrics",
    "round_to_stars",
    "title_scores",
    "title_spread",
    "within_one_confusion",
    "worst_errors_table",
    "write_evaluation_report",
]
