"""Comment cleaning and jieba word segmentation.

Every whitespace run (newlines, full-width spaces) becomes one space and the
ends are stripped. Punctuation is kept in `comment` unless asked (BERT sees
punctuation); the `words` column is always punctuation-free and
jieba-segmented (space separated). Emoji, Traditional characters and mixed
English are kept unchanged.

`has_text` is the one rule for an empty text (a comment, a title, a text to
rate): one without a visible character, however many NULs, zero-width
spaces or other control and format characters it holds.
"""

import logging
import re
import sys
import unicodedata

__all__ = ["clean_comment", "has_text", "normalize_whitespace", "remove_punctuation", "segment_words"]

_WHITESPACE_RE = re.compile(r"\s+")
# Control (NUL ...), format (zero-width spaces U+200B-U+200D, word joiner U+2060,
# BOM U+FEFF, bidi marks ...) and space/separator characters show nothing.
_INVISIBLE_CATEGORIES = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))
# Characters of other categories that render as nothing and are used to pass for
# a text: Hangul fillers, the braille blank, the combining grapheme joiner,
# Khmer inherent vowels, Mongolian and other variation selectors.
_INVISIBLE_CHARACTERS = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0"
    + "".join(map(chr, range(0x180B, 0x1810)))
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def has_text(text):
    """True when `text` holds a visible character (not only whitespace, control,
    format or other invisible characters); None holds none."""
    if text is None:
        return False
    return any(char not in _INVISIBLE_CHARACTERS and unicodedata.category(char) not in _INVISIBLE_CATEGORIES
               for char in str(text))


def normalize_whitespace(text):
    """Collapse every whitespace run (incl. newlines, U+3000) to one space."""
    return _WHITESPACE_RE.sub(" ", text).strip()


def _is_punctuation(char):
    return unicodedata.category(char).startswith("P")


_PUNCT_TABLE = {}


def remove_punctuation(text):
    """Replace Unicode punctuation (categories P*) by spaces, then normalise.

    Symbols (emoji, ★, currency) are kept: they carry sentiment.
    """
    out = []
    for char in text:
        flag = _PUNCT_TABLE.get(char)
        if flag is None:
            flag = _PUNCT_TABLE[char] = _is_punctuation(char)
        out.append(" " if flag else char)
    return normalize_whitespace("".join(out))


def clean_comment(text, remove_punct=False):
    """The cleaned `comment` text ("" when nothing visible is left, see `has_text`)."""
    if not has_text(text):
        return ""
    text = normalize_whitespace(str(text))
    if remove_punct:
        text = remove_punctuation(text)
    return text if has_text(text) else ""


def _progress(progress, **kwargs):
    if progress is False:
        return None
    from tqdm.auto import tqdm

    return tqdm(disable=None if progress is None else not progress, file=sys.stderr, **kwargs)


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _segment_one(jieba_module, text):
    text = remove_punctuation(text)
    return " ".join(tok for tok in jieba_module.cut(text) if tok.strip())


def _segment_chunk(texts):
    jieba_module = _jieba()
    return [_segment_one(jieba_module, t) for t in texts]


def segment_words(texts, progress=None, jobs=1, chunk_size=2000):
    """Punctuation-free, jieba-segmented, space-joined words for each text."""
    texts = list(texts)
    if not texts:
        return []
    bar = _progress(progress, total=len(texts), desc="jieba", unit=" comments")
    chunks = [texts[i:i + chunk_size] for i in range(0, len(texts), chunk_size)]
    out = []
    if jobs and jobs > 1 and len(chunks) > 1:
        import multiprocessing

        _jieba()  # load the dictionary once before forking
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for result in pool.imap(_segment_chunk, chunks):
                out.extend(result)
                if bar is not None:
                    bar.update(len(result))
    else:
        jieba_module = _jieba()
        for chunk in chunks:
            out.extend(_segment_one(jieba_module, t) for t in chunk)
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return out
