#!/bin/sh
# The e2e tests' hidden failure: a training entrypoint whose first attempt per candidate fails.
# $FLAKY_DIR keeps a marker per candidate (train.py's $2 and $4) and a line per attempt naming
# the Slurm array task it ran in ("none_none" outside Slurm). Then it is train.py.
echo "${SLURM_ARRAY_JOB_ID:-none}_${SLURM_ARRAY_TASK_ID:-none}" >> "$FLAKY_DIR/slurm-tasks"
marker="$FLAKY_DIR/attempted$2-$4"
if [ ! -e "$marker" ]; then
  touch "$marker"
  echo "flaky: first attempt fails on purpose" >&2
  exit 3
fi
exec /usr/bin/python3 "$(dirname "$0")/../../examples/pipeline/jobs/train.py" "$@"
