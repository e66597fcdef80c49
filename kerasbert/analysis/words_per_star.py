"""Which words mark each star? jieba words, stop words, class TF-IDF and word clouds."""

import os
import re

import numpy as np

from kerasbert.tasks import NUM_STARS
from kerasbert.utils.io import atomic_output_file

# Function words, pronouns and film-review filler that top every star alike.
CHINESE_STOP_WORDS = frozenset("""
的 了 是 我 你 他 她 它 我们 你们 他们 她们 这 那 这个 那个 这样 那样 这部 那部 一部 一个 一些 有 在 和 与 及 或
就 都 也 还 又 很 太 更 最 非常 比较 挺 真 真的 蛮 好像 而 而且 但 但是 可是 不过 然后 所以 因为 如果 虽然 只是
只 就是 还是 也是 不是 没 没有 不 吗 呢 吧 啊 呀 哦 哈 哈哈 嘛 么 啦 喔 之 其 被 把 给 让 对 从 到 为 为了 以 于
上 下 里 中 后 前 时 时候 的话 什么 怎么 怎样 为什么 哪 哪里 谁 自己 人 个 部 些 点 一点 一下 一样 看 看到 觉得
感觉 知道 说 要 会 能 可以 去 来 做 得 地 着 过 等 等等 已经 其实 反正 当然 居然 竟然 终于 一直 一定 之后 之前
电影 片子 影片 这片 本片 故事 导演 剧情 片 部分 东西 事情 地方 还有 其他 这么 那么 多 少 大 小 再 才 却
""".split())


_CONTENT_RE = re.compile(r"[^\W\d_]", re.UNICODE)  # a letter or CJK character


def read_stop_words(path):
    """One word per line (UTF-8); blank lines and `#` comments ignored."""
    with open(path, encoding="utf-8") as handle:
        return {line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")}


def content_words(text, stop_words=CHINESE_STOP_WORDS):
    """Space-separated words without stop words and without tokens lacking a letter (digits, symbols)."""
    return [word for word in str(text).split() if word not in stop_words and _CONTENT_RE.search(word)]


def star_documents(words, stars, stop_words=CHINESE_STOP_WORDS, min_comments=1):
    """One document per star: its comments' content words, space-separated.

    Words used in fewer than `min_comments` comments overall are dropped
    (one-off names and typos would otherwise top the smoothed idf).
    """
    from collections import Counter

    stars = np.asarray(stars)
    per_comment = [content_words(text, stop_words) for text in words]
    if len(per_comment) != len(stars):
        raise ValueError(f"words has {len(per_comment)} entries but stars has {len(stars)}")
    comment_counts = Counter(word for comment in per_comment for word in set(comment))
    documents = []
    for star in range(1, NUM_STARS + 1):
        kept = [word for comment, s in zip(per_comment, stars) if s == star
                for word in comment if comment_counts[word] >= min_comments]
        documents.append(" ".join(kept))
    return documents


def top_words_per_star(words, stars, top_n=20, stop_words=CHINESE_STOP_WORDS, min_comments=3):
    """Class-based TF-IDF: each star's comments form one document.

    A word scores high for a star when it is frequent in that star's
    comments (sublinear tf) and rare in the other stars' (smoothed idf).
    Only words used in at least `min_comments` comments compete.
    Returns {star: [(word, score), ...]} best first (stars with no comments
    get an empty list).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    documents = star_documents(words, stars, stop_words, min_comments)
    if not any(documents):
        raise ValueError("no words left after stop-word removal: nothing to rank")
    vectorizer = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False,
                                 sublinear_tf=True)
    present = [star for star, document in zip(range(1, NUM_STARS + 1), documents) if document]
    # Stars without comments are no documents: they would shift every idf.
    matrix = vectorizer.fit_transform([document for document in documents if document]).toarray()
    vocabulary = vectorizer.get_feature_names_out()
    result = {star: [] for star in range(1, NUM_STARS + 1)}
    for index, star in enumerate(present):
        row = matrix[index]
        order = [i for i in np.argsort(-row, kind="stable") if row[i] > 0][:top_n]
        result[star] = [(str(vocabulary[i]), float(row[i])) for i in order]
    return result


def write_word_cloud(frequencies, out_path, font_path=None, seed=0, width=800, height=500):
    """A word cloud PNG (wordcloud) from {word: weight}; `font_path` must cover CJK for Chinese."""
    from wordcloud import WordCloud

    if not frequencies:
        raise ValueError("no words to draw")
    cloud = WordCloud(font_path=font_path, width=width, height=height, background_color="white",
                      random_state=seed, prefer_horizontal=1.0, colormap="viridis")
    image = cloud.generate_from_frequencies(dict(frequencies)).to_image()
    out_path = os.fspath(out_path)
    with atomic_output_file(out_path, suffix=".png") as tmp:
        image.save(tmp, format="PNG")
    return out_path
