#!/usr/bin/python3
"""Prediction (a SageMaker Processing job): the registered model of a stage over its
features.

The model comes in processing/model: SageMaker's model.tar.gz (extracted here), or an
already extracted model.joblib. Reads processing/input/data/train.csv and writes
processing/output/predictions/predictions.csv (row, label, prediction).
"""
import csv
import os
import tarfile
import tempfile

import joblib

import estimators
import sm_contract


def load_model(folder):
    direct = os.path.join(folder, "model.joblib")
    if os.path.exists(direct):
        return joblib.load(direct)
    archive = os.path.join(folder, "model.tar.gz")
    if not os.path.exists(archive):
        raise FileNotFoundError("no model.joblib or model.tar.gz in %s" % folder)
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(archive) as tar:
            member = tar.getmember("model.joblib")  # only the one file, never a path
            tar.extract(member, tmp)
        return joblib.load(os.path.join(tmp, "model.joblib"))


def main():
    stage = os.environ.get("SAGEBOX_STAGE", "")
    model = load_model(sm_contract.processing_model())
    X, y = estimators.read_csv(os.path.join(sm_contract.processing_input("data"), "train.csv"))
    predicted = model.predict(X)
    out_dir = sm_contract.processing_output("predictions")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "predictions.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["row", "label", "prediction"])
        for i, (label, p) in enumerate(zip(y, predicted)):
            w.writerow([i, label, int(p)])
    right = sum(1 for label, p in zip(y, predicted) if int(p) == label)
    print("predict: stage=%s rows=%d training-set accuracy=%.6f" % (stage, len(y), right / len(y)))


if __name__ == "__main__":
    sm_contract.run(main)
