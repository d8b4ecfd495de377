"""Where a job's folders are, under the SageMaker container contract.

SageMaker mounts everything under /opt/ml; sagebox runs the same scripts as local
processes and points SAGEBOX_ML_ROOT at the job's work area instead (default /opt/ml, so
the scripts also run unchanged in a SageMaker container). The sagemaker-training
toolkit's variables win when they are set: SM_MODEL_DIR, SM_CHANNEL_<NAME>, SM_HPS,
SM_OUTPUT_DATA_DIR. Hyperparameters are strings, as SageMaker passes them.
"""
import json
import os
import sys
import traceback

ROOT = os.environ.get("SAGEBOX_ML_ROOT", "/opt/ml")


def hyperparameters():
    """SM_HPS (JSON), else input/config/hyperparameters.json; values as strings."""
    text = os.environ.get("SM_HPS")
    if text is None:
        path = os.path.join(ROOT, "input", "config", "hyperparameters.json")
        with open(path, encoding="utf-8") as f:
            text = f.read()
    hps = json.loads(text)
    return {str(k): str(v) for k, v in hps.items()}


def channel(name):
    return os.environ.get("SM_CHANNEL_" + name.upper(), os.path.join(ROOT, "input", "data", name))


def model_dir():
    return os.environ.get("SM_MODEL_DIR", os.path.join(ROOT, "model"))


def output_data_dir():
    return os.environ.get("SM_OUTPUT_DATA_DIR", os.path.join(ROOT, "output", "data"))


def processing_input(name):
    return os.path.join(ROOT, "processing", "input", name)


def processing_output(name):
    return os.path.join(ROOT, "processing", "output", name)


def processing_model():
    return os.path.join(ROOT, "processing", "model")


def run(main):
    """Runs main(); on any error writes output/failure (SageMaker's FailureReason) and
    exits 1."""
    try:
        main()
    except Exception as e:  # the job's one boundary: every failure becomes the file
        reason = "%s: %s" % (type(e).__name__, e)
        traceback.print_exc()
        os.makedirs(os.path.join(ROOT, "output"), exist_ok=True)
        with open(os.path.join(ROOT, "output", "failure"), "w", encoding="utf-8") as f:
            f.write(reason[:1024])
        sys.exit(1)
