#!/usr/bin/python3
"""scikit-learn's own cross-validation for exactly the candidates of a compiled pipeline.

    sagebox pipeline compile ocx.yaml -o ocx.asl.json
    /usr/bin/python3 reference_cv.py ocx.asl.json > reference.json

Reads the stages and their expanded candidates from the compiled state machine (the Init
state's Parameters.stages: the same strings train.py receives as hyperparameters), loads
each stage's dataset straight from Debian's python3-sklearn (not through features.py),
and runs cross_val_score with StratifiedKFold(n_splits=cv_folds, shuffle=True,
random_state=cv_seed). Prints every score and the best candidate per stage as JSON, so
a pipeline run's best scores can be checked against it. Exit 2 on a malformed file.
"""
import json
import os
import sys

import sklearn.datasets
from sklearn.model_selection import StratifiedKFold, cross_val_score

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "jobs"))
import estimators  # noqa: E402  (the jobs' own estimator builder)

LOADERS = {
    "iris": sklearn.datasets.load_iris,
    "wine": sklearn.datasets.load_wine,
    "breast_cancer": sklearn.datasets.load_breast_cancer,
    "digits": sklearn.datasets.load_digits,
}


def main(argv):
    if len(argv) != 2:
        print("usage: reference_cv.py COMPILED.asl.json", file=sys.stderr)
        return 1
    with open(argv[1], encoding="utf-8") as f:
        asl = json.load(f)
    try:
        stages = asl["States"]["Init"]["Parameters"]["stages"]
        processor = asl["States"]["Stages"]["ItemProcessor"]["States"]
        metric = processor["Register Best"]["Parameters"]["Payload"]["metric"]
    except (KeyError, TypeError) as e:
        print("%s: not a compiled sagebox pipeline (missing %s)" % (argv[1], e), file=sys.stderr)
        return 2
    maximize = metric["direction"] == "maximize"
    out = {"metric": metric, "stages": {}}
    for stage in stages:
        dataset = stage["values"].get("dataset", stage["name"])
        data = LOADERS[dataset]()
        X = [[float(v) for v in row] for row in data.data]
        y = [int(t) for t in data.target]
        results = []
        for cand in stage["candidates"]:
            hps = cand["hyperparameters"]
            folds = StratifiedKFold(n_splits=int(hps.get("cv_folds", "5")), shuffle=True,
                                    random_state=int(hps.get("cv_seed", "0")))
            scores = cross_val_score(estimators.build(hps), X, y, cv=folds,
                                     scoring=hps.get("cv_scoring", "accuracy"))
            mean = float(scores.mean())
            results.append({"id": cand["id"], "hyperparameters": hps,
                            "scores": [float(s) for s in scores], "mean": mean,
                            # the text train.py prints for the metric regex
                            "metric_text": "%.12f" % mean})
        # Ties go to the first candidate in expansion order.
        best = results[0]
        for r in results[1:]:
            if (r["mean"] > best["mean"]) if maximize else (r["mean"] < best["mean"]):
                best = r
        out["stages"][stage["name"]] = {
            "dataset": dataset,
            "candidates": results,
            "best": {"id": best["id"], "mean": best["mean"], "metric_text": best["metric_text"]},
        }
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
