"""Sub-word tokens to displayable characters with per-character weights."""

import unicodedata

import numpy as np

SPECIAL_TOKENS = frozenset(
    {"<s>", "</s>", "<pad>", "<mask>", "<cls>", "<sep>", "<bos>", "<eos>",
     "[CLS]", "[SEP]", "[PAD]", "[MASK]"}
)
UNKNOWN_TOKENS = frozenset({"<unk>", "[UNK]"})
UNKNOWN_DISPLAY = "□"
SENTENCEPIECE_MARK = "▁"
WORDPIECE_MARK = "##"


def is_special_token(token):
    return token in SPECIAL_TOKENS


def clean_token(token):
    """Display text of a token: None for special tokens, markers stripped."""
    if is_special_token(token):
        return None
    if token in UNKNOWN_TOKENS:
        return UNKNOWN_DISPLAY
    if token.startswith(WORDPIECE_MARK) and len(token) > len(WORDPIECE_MARK):
        return token[len(WORDPIECE_MARK):]
    return token.replace(SENTENCEPIECE_MARK, "")


def _is_cjk(char):
    return unicodedata.east_asian_width(char) in ("W", "F")


def _needs_space(previous_char, next_char):
    return not (_is_cjk(previous_char) or _is_cjk(next_char) or previous_char.isspace())


def merge_pieces_to_chars(tokens, weights, spread="split"):
    """Characters and their weights from sub-word tokens and token weights.

    Special tokens are dropped; "▁" (SentencePiece) and "##" (WordPiece) are
    stripped. A piece's weight is shared evenly by its characters
    (`spread="split"`, keeps the total) or given to each (`spread="copy"`).
    With "▁" or "##" markers, a space of weight 0 separates words of
    non-CJK script.
    Returns (chars: list of str, char_weights: float array).
    """
    if spread not in ("split", "copy"):
        raise ValueError(f"spread must be 'split' or 'copy', got {spread!r}")
    tokens = [str(token) for token in tokens]
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 1:
        raise ValueError(f"weights must be 1-D (one per token), got shape {weights.shape}")
    if len(weights) != len(tokens):
        raise ValueError(f"weights has {len(weights)} entries but tokens has {len(tokens)}")
    if not np.all(np.isfinite(weights)):
        raise ValueError("weights contains NaN or infinite values")
    wordpiece = any(token.startswith(WORDPIECE_MARK) and len(token) > 2 for token in tokens)
    sentencepiece = any(token.startswith(SENTENCEPIECE_MARK) for token in tokens)
    chars, char_weights = [], []
    for token, weight in zip(tokens, weights):
        text = clean_token(token)
        if not text:
            continue
        if wordpiece:
            starts_word = not token.startswith(WORDPIECE_MARK)
        elif sentencepiece:
            starts_word = token.startswith(SENTENCEPIECE_MARK)
        else:  # no markers (e.g. character-level Chinese BERT): show as given
            starts_word = False
        if starts_word and chars and _needs_space(chars[-1], text[0]):
            chars.append(" ")
            char_weights.append(0.0)
        share = weight / len(text) if spread == "split" else weight
        for char in text:
            chars.append(char)
            char_weights.append(0.0 if char.isspace() else share)
    return chars, np.asarray(char_weights, dtype=float)
