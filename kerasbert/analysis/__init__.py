"""Evaluation analysis for star-rating models: metrics, figures, reports.

Works on NumPy arrays (no TensorFlow use here).
"""

from kerasbert.analysis.attention import attention_flow, attention_rollout
from kerasbert.analysis.fonts import find_cjk_font, use_cjk_font
from kerasbert.analysis.highlight import attention_highlights_html, attention_highlights_png
from kerasbert.analysis.metrics import rating_metrics, round_to_stars
from kerasbert.analysis.plots import (
    plot_attention_heatmap,
    plot_confusion_matrices,
    plot_layer_weights,
    plot_rating_histograms,
    plot_tsne,
    within_one_confusion,
)
from kerasbert.analysis.report import per_movie_table, worst_errors_table, write_evaluation_report
from kerasbert.analysis.tokens import clean_token, merge_pieces_to_chars
from kerasbert.analysis.vectors import apply_whitening, bert_whitening, word_movers_distance

__all__ = [
    "apply_whitening",
    "attention_flow",
    "attention_highlights_html",
    "attention_highlights_png",
    "attention_rollout",
    "bert_whitening",
    "clean_token",
    "find_cjk_font",
    "merge_pieces_to_chars",
    "per_movie_table",
    "plot_attention_heatmap",
    "plot_confusion_matrices",
    "plot_layer_weights",
    "plot_rating_histograms",
    "plot_tsne",
    "rating_metrics",
    "round_to_stars",
    "use_cjk_font",
    "within_one_confusion",
    "word_movers_distance",
    "worst_errors_table",
    "write_evaluation_report",
]
