# triton_python_backend_utils: what a Triton Python-backend model.py imports as pb_utils.
#
# sagebox's stand-in for the module Triton's python_backend ships (written from its
# documented API, not copied): tensors as numpy arrays, requests, responses, errors,
# config helpers and a logger that writes to stderr (the instance's log). Only what
# runs in one process is offered: BLS calls (InferenceRequest.exec), decoupled
# response senders and DLPack/GPU tensors raise TritonModelException.
import sys

import numpy as np

# Triton's C API flags that model.py files compare against.
TRITONSERVER_RESPONSE_COMPLETE_FINAL = 1
TRITONSERVER_REQUEST_FLAG_SEQUENCE_START = 1
TRITONSERVER_REQUEST_FLAG_SEQUENCE_END = 2
TRITONSERVER_REQUEST_RELEASE_ALL = 1
TRITONSERVER_REQUEST_RELEASE_RESCHEDULE = 2

_TRITON_TO_NUMPY = {
    "TYPE_BOOL": np.bool_,
    "TYPE_UINT8": np.uint8,
    "TYPE_UINT16": np.uint16,
    "TYPE_UINT32": np.uint32,
    "TYPE_UINT64": np.uint64,
    "TYPE_INT8": np.int8,
    "TYPE_INT16": np.int16,
    "TYPE_INT32": np.int32,
    "TYPE_INT64": np.int64,
    "TYPE_FP16": np.float16,
    "TYPE_FP32": np.float32,
    "TYPE_FP64": np.float64,
    "TYPE_STRING": np.object_,
}


def triton_string_to_numpy(triton_type_string):
    """The numpy type of a config data_type ("TYPE_FP32"); None if it has none (BF16)."""
    return _TRITON_TO_NUMPY.get(triton_type_string)


def triton_to_numpy_type(data_type):
    """The numpy type of a KServe datatype name ("FP32", "BYTES")."""
    if data_type == "BYTES":
        return np.object_
    return _TRITON_TO_NUMPY.get("TYPE_" + str(data_type))


def numpy_to_triton_type(data_type):
    """The KServe datatype name of a numpy dtype; None if it has none."""
    dt = np.dtype(data_type)
    if dt.kind in ("O", "S", "U"):
        return "BYTES"
    for name, t in _TRITON_TO_NUMPY.items():
        if name != "TYPE_STRING" and np.dtype(t) == dt:
            return name[len("TYPE_"):]
    return None


class TritonModelException(Exception):
    """Raised by this module when model.py uses it wrongly; model.py may raise it too."""


class TritonError:
    """An error a response carries instead of outputs (InferenceResponse(error=...))."""

    UNKNOWN = 0
    INTERNAL = 1
    NOT_FOUND = 2
    INVALID_ARG = 3
    UNAVAILABLE = 4
    UNSUPPORTED = 5
    ALREADY_EXISTS = 6
    CANCELLED = 7

    def __init__(self, message, code=INTERNAL):
        self._message = str(message)
        self._code = code

    def message(self):
        return self._message

    def code(self):
        return self._code

    def __repr__(self):
        return "TritonError(%r)" % self._message


class Tensor:
    """A named tensor backed by a numpy array (BYTES: an object array of bytes)."""

    def __init__(self, name, numpy_array):
        if not isinstance(name, str):
            raise TritonModelException("Tensor name must be a str, got %r" % (name,))
        if not isinstance(numpy_array, np.ndarray):
            raise TritonModelException(
                "Tensor '%s' must be built from a numpy array, got %s"
                % (name, type(numpy_array).__name__))
        self._name = name
        self._array = numpy_array

    def name(self):
        return self._name

    def as_numpy(self):
        return self._array

    def triton_dtype(self):
        return numpy_to_triton_type(self._array.dtype)

    def shape(self):
        return list(self._array.shape)

    def is_cpu(self):
        return True

    def to_dlpack(self):
        raise TritonModelException("DLPack tensors are not supported by sagebox's python backend")

    @staticmethod
    def from_dlpack(name, capsule):
        raise TritonModelException("DLPack tensors are not supported by sagebox's python backend")


class InferenceRequest:
    """One request of the batch execute() receives."""

    def __init__(self, inputs, request_id="", requested_output_names=None,
                 correlation_id=0, flags=0, model_name="", model_version=-1):
        self._inputs = list(inputs)
        self._request_id = request_id
        self._requested_output_names = list(requested_output_names or [])
        self._correlation_id = correlation_id
        self._flags = flags
        self._model_name = model_name
        self._model_version = model_version

    def inputs(self):
        return self._inputs

    def request_id(self):
        return self._request_id

    def requested_output_names(self):
        return self._requested_output_names

    def correlation_id(self):
        return self._correlation_id

    def flags(self):
        return self._flags

    def model_name(self):
        return self._model_name

    def model_version(self):
        return self._model_version

    def is_cancelled(self):
        return False

    def get_response_sender(self):
        raise TritonModelException("decoupled models are not supported by sagebox's python backend")

    def exec(self, *args, **kwargs):
        raise TritonModelException("BLS (InferenceRequest.exec) is not supported by sagebox")

    def async_exec(self, *args, **kwargs):
        raise TritonModelException("BLS (InferenceRequest.async_exec) is not supported by sagebox")


class InferenceResponse:
    """execute()'s answer to one request: output tensors, or an error."""

    def __init__(self, output_tensors=None, error=None):
        if output_tensors is None:
            output_tensors = []
        for t in output_tensors:
            if not isinstance(t, Tensor):
                raise TritonModelException(
                    "InferenceResponse output_tensors must be pb_utils.Tensor, got %s"
                    % type(t).__name__)
        if error is not None and not isinstance(error, TritonError):
            raise TritonModelException(
                "InferenceResponse error must be a pb_utils.TritonError, got %s"
                % type(error).__name__)
        self._output_tensors = list(output_tensors)
        self._error = error

    def output_tensors(self):
        return self._output_tensors

    def has_error(self):
        return self._error is not None

    def error(self):
        return self._error


def get_input_tensor_by_name(inference_request, name):
    """The input tensor called `name`, or None."""
    for t in inference_request.inputs():
        if t.name() == name:
            return t
    return None


def get_output_tensor_by_name(inference_response, name):
    """The output tensor called `name`, or None."""
    for t in inference_response.output_tensors():
        if t.name() == name:
            return t
    return None


def get_input_config_by_name(model_config, name):
    """The `input` entry of the config dict called `name`, or None."""
    for entry in model_config.get("input", []):
        if entry.get("name") == name:
            return entry
    return None


def get_output_config_by_name(model_config, name):
    """The `output` entry of the config dict called `name`, or None."""
    for entry in model_config.get("output", []):
        if entry.get("name") == name:
            return entry
    return None


class Logger:
    """Triton's pb_utils.Logger: lines go to the instance's stderr log."""

    INFO = 0
    WARNING = 1
    ERROR = 2
    VERBOSE = 3

    _NAMES = {0: "INFO", 1: "WARNING", 2: "ERROR", 3: "VERBOSE"}

    @staticmethod
    def log(message, level=0):
        sys.stderr.write("%s: %s\n" % (Logger._NAMES.get(level, "INFO"), message))
        sys.stderr.flush()

    @staticmethod
    def log_info(message):
        Logger.log(message, Logger.INFO)

    @staticmethod
    def log_warn(message):
        Logger.log(message, Logger.WARNING)

    @staticmethod
    def log_error(message):
        Logger.log(message, Logger.ERROR)

    @staticmethod
    def log_verbose(message):
        Logger.log(message, Logger.VERBOSE)


class LogLevel:
    INFO = Logger.INFO
    WARNING = Logger.WARNING
    ERROR = Logger.ERROR
    VERBOSE = Logger.VERBOSE
