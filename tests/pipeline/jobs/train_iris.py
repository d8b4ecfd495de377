#!/usr/bin/python3
"""A SageMaker-style training script for the job tests: reads its hyperparameters and its
"train" channel the way a SageMaker container does (/opt/ml/input/config/hyperparameters.json,
string values; /opt/ml/input/data/train/), fits Debian's scikit-learn DecisionTreeClassifier,
prints metrics for MetricDefinitions to match, and writes the model to /opt/ml/model.

The /opt/ml root is $SAGEBOX_ML_ROOT under sagebox (the work area), /opt/ml in a container.
"""
import csv
import json
import os
import pickle
import sys

from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

root = os.environ.get("SAGEBOX_ML_ROOT", "/opt/ml")
with open(os.path.join(root, "input/config/hyperparameters.json")) as f:
    hps = json.load(f)  # every value is a string, as SageMaker writes them
max_depth = int(hps.get("max_depth", "3"))
folds = int(hps.get("folds", "5"))

channel = os.environ.get("SM_CHANNEL_TRAIN", os.path.join(root, "input/data/train"))
X, y = [], []
for name in sorted(os.listdir(channel)):
    with open(os.path.join(channel, name)) as f:
        rows = list(csv.reader(f))
    for row in rows[1:]:  # scikit-learn's header line: n_samples,n_features,class names
        X.append([float(v) for v in row[:-1]])
        y.append(int(row[-1]))
print(f"loaded {len(X)} rows, max_depth={max_depth}", flush=True)

model = DecisionTreeClassifier(max_depth=max_depth, random_state=0)
scores = cross_val_score(model, X, y, cv=folds)
for i, s in enumerate(scores):
    print(f"fold={i} accuracy={s:.6f}", flush=True)
print(f"cv_accuracy={scores.mean():.6f}", file=sys.stderr, flush=True)
model.fit(X, y)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.pkl"), "wb") as f:
    pickle.dump(model, f)
