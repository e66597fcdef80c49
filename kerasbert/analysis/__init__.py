"""Analysis: evaluation metrics, figures and reports for star-rating models,
and exploratory analysis of encoders (`kerasbert analyze`).

The evaluation and geometry functions work on NumPy arrays; only
`load_encoder` / `encode_texts` (kerasbert.analysis.encoders) run a model.
"""

from kerasbert.analysis.attention import (
    attention_flow,
    attention_rollout,
    pooled_attention_flow,
    pooled_attention_rollout,
)
from kerasbert.analysis.attention_maps import attention_views, plot_attention_grid
from kerasbert.analysis.encoders import EncodedText, LoadedEncoder, encode_texts, load_encoder
from kerasbert.analysis.fonts import find_cjk_font, use_cjk_font
from kerasbert.analysis.highlight import attention_highlights_html, attention_highlights_png
from kerasbert.analysis.layer_probe import layer_features, probe_layers
from kerasbert.analysis.metrics import rating_metrics, round_to_stars
from kerasbert.analysis.plots import (
    plot_attention_heatmap,
    plot_confusion_matrices,
    plot_layer_weights,
    plot_rating_histograms,
    plot_tsne,
    within_one_confusion,
)
from kerasbert.analysis.report import (
    per_movie_table,
    predictions_table,
    worst_errors_table,
    write_evaluation_report,
)
from kerasbert.analysis.sentence_vectors import sentence_vectors, text_wmd, whitening_ranking
from kerasbert.analysis.tokens import clean_token, merge_pieces_to_chars
from kerasbert.analysis.title_scores import paired_difference, per_title_table, title_scores, title_spread
from kerasbert.analysis.transfer import geometry_report, read_binary_csv, separation_scores
from kerasbert.analysis.vectors import apply_whitening, bert_whitening, word_movers_distance
from kerasbert.analysis.word_vectors import combine_layers, cosine_distances, mds_embedding, word_vectors
from kerasbert.analysis.words_per_star import top_words_per_star, write_word_cloud

__all__ = [
    "apply_whitening",
    "attention_flow",
    "attention_highlights_html",
    "attention_highlights_png",
    "attention_rollout",
    "attention_views",
    "bert_whitening",
    "clean_token",
    "combine_layers",
    "cosine_distances",
    "encode_texts",
    "EncodedText",
    "find_cjk_font",
    "geometry_report",
    "layer_features",
    "load_encoder",
    "LoadedEncoder",
    "mds_embedding",
    "merge_pieces_to_chars",
    "paired_difference",
    "per_title_table",
    "per_movie_table",
    "plot_attention_grid",
    "plot_attention_heatmap",
    "plot_confusion_matrices",
    "plot_layer_weights",
    "plot_rating_histograms",
    "plot_tsne",
    "pooled_attention_flow",
    "pooled_attention_rollout",
    "probe_layers",
    "rating_metrics",
    "read_binary_csv",
    "round_to_stars",
    "sentence_vectors",
    "separation_scores",
    "text_wmd",
    "title_scores",
    "title_spread",
    "top_words_per_star",
    "use_cjk_font",
    "whitening_ranking",
    "within_one_confusion",
    "word_movers_distance",
    "word_vectors",
    "predictions_table",
    "worst_errors_table",
    "write_evaluation_report",
    "write_word_cloud",
]
