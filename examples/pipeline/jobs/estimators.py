"""The estimators of the example, built from an algorithm name and string
hyperparameters. train.py and reference_cv.py both use it, so the reference scores are
for exactly the candidates the pipeline trains."""
import csv

from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# Keys that configure the run, not the estimator (sagebox's injected ones and the
# stages' values).
NOT_ESTIMATOR = {"algorithm", "metric_name", "cv_folds", "cv_seed", "cv_scoring", "dataset"}


def typed(text):
    """A hyperparameter string as Python: int, float, bool, None or the string."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def build(hps):
    """The estimator for hps["algorithm"]; ValueError for an unknown one."""
    algorithm = hps["algorithm"]
    seed = int(hps.get("cv_seed", "0"))
    params = {k: typed(v) for k, v in sorted(hps.items()) if k not in NOT_ESTIMATOR}
    if algorithm == "logistic-regression":
        # Scaled first: lbfgs converges on wine and breast_cancer only on scaled data.
        return make_pipeline(StandardScaler(), LogisticRegression(**params))
    if algorithm == "random-forest":
        return RandomForestClassifier(random_state=seed, n_jobs=1, **params)
    if algorithm == "xgboost":
        import xgboost  # Debian's python3-xgboost

        return xgboost.XGBClassifier(random_state=seed, n_jobs=1, **params)
    raise ValueError("unknown algorithm %r (expected logistic-regression, random-forest "
                     "or xgboost)" % algorithm)


def read_csv(path):
    """X (list of float rows) and y (int labels) from a features CSV (header, label last)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2 or rows[0][-1] != "label":
        raise ValueError("%s: expected a header ending in 'label' and data rows" % path)
    X = [[float(v) for v in r[:-1]] for r in rows[1:]]
    y = [int(r[-1]) for r in rows[1:]]
    return X, y
