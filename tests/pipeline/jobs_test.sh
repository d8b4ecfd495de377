#!/usr/bin/env bash
# The example's job scripts (examples/pipeline/jobs/) run by hand through a fake work area,
# as sagebox's runner will run them: SAGEBOX_ML_ROOT stands in for /opt/ml. Features for
# iris, one logistic-regression candidate with 3 folds (its printed metric must equal
# scikit-learn's cross_val_score computed here), prediction from model.tar.gz, and a
# failing job that must write output/failure and exit non-zero.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jobs="$here/../../examples/pipeline/jobs"
py=/usr/bin/python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "jobs_test: FAIL: $*" >&2; exit 1; }

# 1. features: one CSV for the stage.
SAGEBOX_ML_ROOT="$work/features" SAGEBOX_STAGES='[{"name":"iris","values":{"dataset":"iris"}}]' \
  "$py" "$jobs/features.py" > "$work/features.log"
csv="$work/features/processing/output/features/iris/train.csv"
[[ -f "$csv" ]] || fail "features.py wrote no $csv"
[[ "$(wc -l < "$csv")" == 151 ]] || fail "iris features: expected 151 lines, got $(wc -l < "$csv")"
[[ "$(head -1 "$csv")" == "sepal_length_(cm),sepal_width_(cm),petal_length_(cm),petal_width_(cm),label" ]] ||
  fail "iris header: $(head -1 "$csv")"

# 2. training: hyperparameters.json with string values, the train channel.
t="$work/train"
mkdir -p "$t/input/data/train" "$t/input/config"
cp "$csv" "$t/input/data/train/"
cat > "$t/input/config/hyperparameters.json" <<'JSON'
{"algorithm": "logistic-regression", "C": "1.0", "max_iter": "2000", "cv_folds": "3",
 "cv_seed": "42", "cv_scoring": "accuracy", "metric_name": "cv_accuracy", "dataset": "iris"}
JSON
SAGEBOX_ML_ROOT="$t" "$py" "$jobs/train.py" --stage iris --candidate logistic-regression-1 \
  > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train.py exited non-zero"; }
got="$(sed -nE 's/^cv_accuracy=([0-9.]+);$/\1/p' "$work/train.log")"
[[ -n "$got" ]] || { cat "$work/train.log"; fail "no cv_accuracy line for the metric regex"; }
want="$("$py" - <<'PY'
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
X, y = load_iris(return_X_y=True)
m = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
s = cross_val_score(m, X, y, cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=42))
print("%.12f" % s.mean())
PY
)"
[[ "$got" == "$want" ]] || fail "cv_accuracy $got, scikit-learn says $want"
[[ "$(grep -c '^fold ' "$work/train.log")" == 3 ]] || fail "expected 3 folds in the log"
[[ -f "$t/model/model.joblib" ]] || fail "no model/model.joblib"
[[ -f "$t/output/data/cv_scores.json" ]] || fail "no output/data/cv_scores.json"
[[ ! -e "$t/output/failure" ]] || fail "a successful job wrote output/failure"

# SM_HPS and SM_CHANNEL_TRAIN win over the files (the sagemaker-training toolkit's names).
t2="$work/train2"
mkdir -p "$t2"
SAGEBOX_ML_ROOT="$t2" SM_CHANNEL_TRAIN="$t/input/data/train" SM_MODEL_DIR="$t2/m" \
  SM_HPS='{"algorithm":"random-forest","n_estimators":"10","cv_folds":"3","cv_seed":"1","metric_name":"cv_accuracy"}' \
  "$py" "$jobs/train.py" > "$work/train2.log" 2>&1 || { cat "$work/train2.log"; fail "SM_* run failed"; }
[[ -f "$t2/m/model.joblib" ]] || fail "SM_MODEL_DIR was not used"

# 3. prediction from the model as SageMaker stores it (model.tar.gz).
p="$work/predict"
mkdir -p "$p/processing/model" "$p/processing/input/data"
tar -C "$t/model" -czf "$p/processing/model/model.tar.gz" model.joblib
cp "$csv" "$p/processing/input/data/"
SAGEBOX_ML_ROOT="$p" SAGEBOX_STAGE=iris "$py" "$jobs/predict.py" > "$work/predict.log" 2>&1 ||
  { cat "$work/predict.log"; fail "predict.py exited non-zero"; }
pred="$p/processing/output/predictions/predictions.csv"
[[ "$(wc -l < "$pred")" == 151 ]] || fail "predictions: expected 151 lines"
[[ "$(head -1 "$pred")" == "row,label,prediction" ]] || fail "predictions header"

# 4. a failing job: output/failure says why, exit status non-zero.
f="$work/bad"
mkdir -p "$f/input/data/train" "$f/input/config"
cp "$csv" "$f/input/data/train/"
echo '{"algorithm": "no-such", "cv_folds": "3"}' > "$f/input/config/hyperparameters.json"
if SAGEBOX_ML_ROOT="$f" "$py" "$jobs/train.py" > "$work/bad.log" 2>&1; then
  fail "train.py with an unknown algorithm exited 0"
fi
grep -q "unknown algorithm 'no-such'" "$f/output/failure" || fail "output/failure: $(cat "$f/output/failure" 2>&1)"

echo "jobs_test: ok (features, train cv_accuracy=$got over 3 folds, predict, failure)"
