# sagebox_python_runner: the child process that runs one instance of a Triton
# Python-backend model for sagebox (src/endpoint/python/python_backend.h).
#
# Usage: python3 sagebox_python_runner.py FD MODEL_VERSION_DIR MODEL_FILE
# FD is a connected stream socket to sagebox. Every message either way is one
# frame: a 4-byte little-endian header length, a JSON header, then the raw
# buffers the header's "buffers" list gives the sizes of. Tensors in a header are
# {"name", "datatype" (KServe name), "shape", "buffer" (index)}; a BYTES buffer is
# each element as a 4-byte little-endian length and its bytes, as Triton lays it
# out. stdout is pointed at stderr before model.py is imported, so a print() in
# the model lands in the log and never in the protocol.
import importlib.util
import json
import os
import struct
import sys
import traceback

_MAX_HEADER = 256 << 20


def _read_exact(fd, n):
    parts = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 24))
        if not chunk:
            return None
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_message(fd):
    """(header dict, list of bytearray buffers), or None at end of stream."""
    raw = _read_exact(fd, 4)
    if raw is None:
        return None
    (size,) = struct.unpack("<I", raw)
    if size > _MAX_HEADER:
        raise RuntimeError("protocol: header of %d bytes" % size)
    data = _read_exact(fd, size)
    if data is None:
        return None
    header = json.loads(data.decode("utf-8"))
    buffers = []
    for n in header.get("buffers", []):
        b = _read_exact(fd, n) if n else b""
        if b is None:
            return None
        buffers.append(bytearray(b))
    return header, buffers


def write_message(fd, header, buffers=()):
    header = dict(header)
    header["buffers"] = [len(b) for b in buffers]
    data = json.dumps(header).encode("utf-8")
    _write_all(fd, struct.pack("<I", len(data)) + data)
    for b in buffers:
        if len(b):
            _write_all(fd, b)


def _error_line(exc):
    """The last line of the traceback: 'ValueError: bad prompt'."""
    lines = traceback.format_exception_only(type(exc), exc)
    return lines[-1].strip() if lines else type(exc).__name__


def _log_traceback(what):
    sys.stderr.write("sagebox: %s failed:\n%s" % (what, traceback.format_exc()))
    sys.stderr.flush()


def decode_tensor(np, pb_utils, spec, buffers):
    buf = buffers[spec["buffer"]]
    shape = [int(d) for d in spec["shape"]]
    if spec["datatype"] == "BYTES":
        items = []
        pos = 0
        while pos < len(buf):
            (n,) = struct.unpack_from("<I", buf, pos)
            pos += 4
            items.append(bytes(buf[pos:pos + n]))
            pos += n
        arr = np.empty(len(items), dtype=np.object_)
        arr[:] = items
        arr = arr.reshape(shape)
    else:
        dtype = np.dtype(pb_utils.triton_to_numpy_type(spec["datatype"])).newbyteorder("<")
        arr = np.frombuffer(buf, dtype=dtype).reshape(shape)
    return pb_utils.Tensor(spec["name"], arr)


def encode_tensor(np, pb_utils, tensor, buffers):
    arr = np.asarray(tensor.as_numpy())
    name = tensor.name()
    if arr.dtype.kind in ("O", "S", "U"):
        out = bytearray()
        for item in arr.reshape(-1):
            if isinstance(item, (bytes, bytearray, np.bytes_)):
                b = bytes(item)
            elif isinstance(item, (str, np.str_)):
                b = str(item).encode("utf-8")
            else:
                raise pb_utils.TritonModelException(
                    "output '%s': a BYTES element must be bytes or str, got %s"
                    % (name, type(item).__name__))
            out += struct.pack("<I", len(b))
            out += b
        datatype = "BYTES"
    else:
        datatype = pb_utils.numpy_to_triton_type(arr.dtype)
        if datatype is None:
            raise pb_utils.TritonModelException(
                "output '%s': numpy dtype %s has no Triton datatype" % (name, arr.dtype))
        out = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    buffers.append(out)
    return {"name": name, "datatype": datatype, "shape": list(arr.shape),
            "buffer": len(buffers) - 1}


def load_model(version_dir, model_file):
    path = os.path.join(version_dir, model_file)
    spec = importlib.util.spec_from_file_location("model", path)
    if spec is None:
        raise ImportError("cannot import %s" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["model"] = module
    spec.loader.exec_module(module)
    if not hasattr(module, "TritonPythonModel"):
        raise AttributeError("%s defines no class TritonPythonModel" % path)
    return module.TritonPythonModel()


def main():
    fd = int(sys.argv[1])
    version_dir = sys.argv[2]
    model_file = sys.argv[3]
    os.set_inheritable(fd, False)
    # The protocol runs on fd; stdout joins stderr (the instance's log).
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # The runner's folder (pb_utils) stays first; the model's folder comes next.
    sys.path.insert(1, version_dir)

    import numpy as np
    import triton_python_backend_utils as pb_utils

    model = None
    model_name = ""
    model_version = -1
    while True:
        msg = read_message(fd)
        if msg is None:
            return 0
        header, buffers = msg
        cmd = header.get("cmd")
        if cmd == "initialize":
            args = header["args"]
            model_name = args.get("model_name", "")
            model_version = int(args.get("model_version", "-1"))
            try:
                model = load_model(version_dir, model_file)
                if hasattr(model, "initialize"):
                    model.initialize(args)
            except BaseException as exc:  # noqa: B902 - SystemExit too: report, then stop
                _log_traceback("initialize")
                write_message(fd, {"ok": False, "error": _error_line(exc)})
                return 1
            write_message(fd, {"ok": True})
        elif cmd == "execute":
            out_buffers = []
            try:
                requests = []
                for r in header["requests"]:
                    inputs = [decode_tensor(np, pb_utils, t, buffers) for t in r["inputs"]]
                    requests.append(pb_utils.InferenceRequest(
                        inputs, r.get("id", ""), r.get("outputs", []),
                        model_name=model_name, model_version=model_version))
                responses = model.execute(requests)
                if responses is None or len(responses) != len(requests):
                    raise pb_utils.TritonModelException(
                        "execute() returned %s responses for %d requests"
                        % ("no" if responses is None else len(responses), len(requests)))
                answer = []
                for resp in responses:
                    if not isinstance(resp, pb_utils.InferenceResponse):
                        raise pb_utils.TritonModelException(
                            "execute() must return InferenceResponse objects, got %s"
                            % type(resp).__name__)
                    if resp.has_error():
                        answer.append({"error": resp.error().message(), "outputs": []})
                    else:
                        answer.append({"error": None, "outputs": [
                            encode_tensor(np, pb_utils, t, out_buffers)
                            for t in resp.output_tensors()]})
            except Exception as exc:
                _log_traceback("execute")
                write_message(fd, {"ok": False, "error": _error_line(exc)})
                continue
            write_message(fd, {"ok": True, "responses": answer}, out_buffers)
        elif cmd == "finalize":
            try:
                if model is not None and hasattr(model, "finalize"):
                    model.finalize()
            except Exception as exc:
                _log_traceback("finalize")
                write_message(fd, {"ok": False, "error": _error_line(exc)})
                return 1
            write_message(fd, {"ok": True})
            return 0
        else:
            write_message(fd, {"ok": False, "error": "unknown command %r" % (cmd,)})


if __name__ == "__main__":
    sys.exit(main())
