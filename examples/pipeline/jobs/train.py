#!/usr/bin/python3
"""Training (a SageMaker training job): one candidate of a stage.

Builds the estimator from the `algorithm` hyperparameter and the others (estimators.py),
scores it with scikit-learn's cross_val_score over StratifiedKFold(n_splits=cv_folds,
shuffle=True, random_state=cv_seed), prints `<metric_name>=<mean>` for the metric regex,
then fits on all the data and saves model.joblib in the model folder.
"""
import argparse
import json
import os

import joblib
from sklearn.model_selection import StratifiedKFold, cross_val_score

import estimators
import sm_contract


def main():
    # --stage/--candidate come from the compiled ASL (ContainerArguments), for the log.
    parser = argparse.ArgumentParser()
    parser.add_argument("--stage", default="")
    parser.add_argument("--candidate", default="")
    args, _ = parser.parse_known_args()
    hps = sm_contract.hyperparameters()
    print("train: stage=%s candidate=%s hyperparameters=%s"
          % (args.stage, args.candidate, json.dumps(hps, sort_keys=True)))
    X, y = estimators.read_csv(os.path.join(sm_contract.channel("train"), "train.csv"))
    model = estimators.build(hps)
    folds = StratifiedKFold(n_splits=int(hps.get("cv_folds", "5")), shuffle=True,
                            random_state=int(hps.get("cv_seed", "0")))
    scores = cross_val_score(model, X, y, cv=folds, scoring=hps.get("cv_scoring", "accuracy"))
    mean = float(scores.mean())
    for i, s in enumerate(scores):
        print("fold %d: %.12f" % (i, s))
    # The line the metric regex reads (SageMaker MetricDefinitions).
    print("%s=%.12f;" % (hps.get("metric_name", "cv_score"), mean), flush=True)
    model.fit(X, y)
    os.makedirs(sm_contract.model_dir(), exist_ok=True)
    joblib.dump(model, os.path.join(sm_contract.model_dir(), "model.joblib"))
    out = sm_contract.output_data_dir()
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "cv_scores.json"), "w", encoding="utf-8") as f:
        json.dump({"scores": [float(s) for s in scores], "mean": mean}, f)


if __name__ == "__main__":
    sm_contract.run(main)
