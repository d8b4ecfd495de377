#!/usr/bin/python3
"""Feature engineering (a SageMaker Processing job): one CSV per stage.

SAGEBOX_STAGES (set by `sagebox pipeline compile`) lists the stages with their values
(without it, one stage per bundled dataset: iris, wine, breast_cancer); values.dataset names a dataset that Debian's python3-sklearn ships on disk (iris, wine,
breast_cancer, digits). Writes processing/output/features/<stage>/train.csv: the
feature columns, then `label`. Floats are written with repr, which reads back exactly.
"""
import csv
import json
import os

import sklearn.datasets

import sm_contract

LOADERS = {
    "iris": sklearn.datasets.load_iris,
    "wine": sklearn.datasets.load_wine,
    "breast_cancer": sklearn.datasets.load_breast_cancer,
    "digits": sklearn.datasets.load_digits,
}


def main():
    default = [{"name": n, "values": {"dataset": n}} for n in ("iris", "wine", "breast_cancer")]
    stages = json.loads(os.environ["SAGEBOX_STAGES"]) if "SAGEBOX_STAGES" in os.environ else default
    out_root = sm_contract.processing_output("features")
    for stage in stages:
        dataset = stage.get("values", {}).get("dataset", stage["name"])
        if dataset not in LOADERS:
            raise ValueError("stage %s: unknown dataset %r (expected one of %s)"
                             % (stage["name"], dataset, ", ".join(sorted(LOADERS))))
        data = LOADERS[dataset]()
        out_dir = os.path.join(out_root, stage["name"])
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, "train.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow([n.replace(" ", "_") for n in data.feature_names] + ["label"])
            for row, label in zip(data.data, data.target):
                w.writerow([repr(float(v)) for v in row] + [int(label)])
        print("features: stage %s: %d rows × %d features from %s -> %s"
              % (stage["name"], len(data.target), data.data.shape[1], dataset, path))


if __name__ == "__main__":
    sm_contract.run(main)
