"""Analysis: exploring encoders and trained models (`kerasbert analyze`).

Attention rollout and flow, attention maps, layer probes, contextual word
vectors, sentence vectors with BERT-whitening and WMD, cross-domain
geometry, words per star. The geometry functions work on NumPy arrays; only
`load_encoder` / `encode_texts` (kerasbert.analysis.encoders) run a model.
Metrics, figures and the evaluation report live one floor down, in
`kerasbert.evaluation`.
"""

from kerasbert.analysis.attention import (
    attention_flow,
    attention_rollout,
    pooled_attention_flow,
    pooled_attention_rollout,
)
from kerasbert.analysis.attention_maps import attention_views, plot_attention_grid
from kerasbert.analysis.encoders import EncodedText, LoadedEncoder, encode_texts, load_encoder
from kerasbert.analysis.layer_probe import layer_features, probe_layers
from kerasbert.analysis.page import Page
from kerasbert.analysis.sentence_vectors import sentence_vectors, text_wmd, whitening_ranking
from kerasbert.analysis.transfer import geometry_report, read_binary_csv, separation_scores
from kerasbert.analysis.vectors import apply_whitening, bert_whitening, word_movers_distance
from kerasbert.analysis.word_vectors import combine_layers, cosine_distances, mds_embedding, word_vectors
from kerasbert.analysis.words_per_star import top_words_per_star, write_word_cloud

__all__ = [
    "EncodedText",
    "LoadedEncoder",
    "Page",
    "apply_whitening",
    "attention_flow",
    "attention_views",
    "attention_rollout",
    "bert_whitening",
    "combine_layers",
    "cosine_distances",
    "encode_texts",
    "geometry_report",
    "layer_features",
    "load_encoder",
    "mds_embedding",
    "plot_attention_grid",
    "pooled_attention_flow",
    "pooled_attention_rollout",
    "probe_layers",
    "read_binary_csv",
    "sentence_vectors",
    "separation_scores",
    "text_wmd",
    "top_words_per_star",
    "whitening_ranking",
    "word_movers_distance",
    "word_vectors",
    "write_word_cloud",
]
