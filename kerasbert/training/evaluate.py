"""Rate a labelled table with a `RatingModel` and write the evaluation report."""

import json
import os

from kerasbert.evaluation import write_evaluation_report
from kerasbert.tasks import stars_from_outputs
from kerasbert.training.roads import road_of

__all__ = ["DEFAULT_REPORT_TITLE", "evaluate_frame"]

DEFAULT_REPORT_TITLE = "豆瓣短评星级预测评估报告"


def evaluate_frame(model, frame, out_dir, batch_size=32, max_length=None, fixed_length=False, title=None,
                   extra=None, groups=None, verbose=True):
    """Predict a labelled DataFrame (movie, star, comment) and write the report into `out_dir`.

    Args:
        model: a `RatingModel` of either road.
        frame: a DataFrame with `star` and `comment` columns (and `movie` for per-title tables).
        out_dir: the report folder (`report.md`, `metrics.json`, figures, CSVs).
        batch_size, max_length, fixed_length: inference settings (`max_length`
            defaults to the model's).
        title, extra: the report's title and extra facts for `metrics.json`.
        groups: one key per row (e.g. `frame["movie"]`): rate each group's rows
            together with the model's title adaptation; the report shows the
            outputs before and after, and each group's estimated star mix.

    Returns:
        `(metrics dict, path of report.md)`.
    """
    texts = frame["comment"].tolist()
    models = road_of(model).models
    predictions = models.predict_texts(model, texts, batch_size=batch_size, max_length=max_length,
                                       fixed_length=fixed_length)
    layer_weights, gamma = models.scalar_mix_weights(model)
    y_pred = predictions["stars"] if model.task == "classification" else predictions["score"]
    y_score, adaptation = predictions["score"], None
    if groups is not None:
        adapted, estimates = model.adapt(y_score, groups)
        adaptation = {"description": model.adaptation.describe(), "y_pred": y_pred, "y_score": y_score,
                      "estimates": estimates, "groups": list(groups), "prior": getattr(model.adaptation, "source_prior", None)}
        y_score = adapted
        y_pred = stars_from_outputs(adapted, model.task) if model.task == "classification" else adapted
    report_path = write_evaluation_report(
        out_dir,
        y_true=frame["star"].to_numpy(),
        y_pred=y_pred,
        y_score=y_score,
        adaptation=adaptation,
        task=model.task,
        texts=texts,
        movies=frame["movie"].tolist() if "movie" in frame else None,
        features=predictions["features"],
        layer_weights=layer_weights,
        gamma=gamma,
        attention=predictions["attention"],
        tokens=predictions["tokens"] if predictions["attention"] is not None else None,
        title=title or DEFAULT_REPORT_TITLE,
        extra=extra,
        verbose=verbose,
    )
    with open(os.path.join(out_dir, "metrics.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)
    return metrics, report_path
