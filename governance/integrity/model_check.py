"""Check that ``xgboost-model`` is a native XGBoost model and nothing more — without letting XGBoost's parser
take the inspector down with it.

Two guards, because the model bytes are attacker-controlled and XGBoost's parsers are native code:

* the structure is walked first (its brackets for JSON, a bounded walker for UBJSON): nesting deeper
  than :data:`MAX_DEPTH` — which makes XGBoost's recursive parser overflow its stack — is refused before XGBoost
  sees it, and so are bytes after the model's closing ``}`` (XGBoost ignores them; a loader that tries pickle
  first would not);
* XGBoost then loads the bytes in a child process with a memory and CPU limit, so a crash or a hang becomes a
  ``MODEL_UNPARSEABLE`` finding and the caller (a folder scan) carries on. A single-threaded caller forks (fast);
  a caller with other threads running (a scan's worker pool) starts a fresh interpreter instead, because a fork
  copies locks other threads hold and the child could wait on them until the time limit: a false finding.

>>> check_model(b'{"learner": {}}').code
'BAD_XGBOOST_MODEL'
>>> check_model(b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}").code
'MODEL_UNPARSEABLE'
"""

from __future__ import annotations

import faulthandler
import os
import re
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from governance.integrity import pickles

MODEL_MEMBER = "xgboost-model"  # the SageMaker XGBoost container's model file
# A booster for this data is a few MB; anything far larger is refused before it is read into memory.
MAX_MODEL_BYTES = 512 << 20
# A tree model nests about eight levels deep; far deeper is only ever an attack on a recursive parser.
MAX_DEPTH = 128
LOAD_SECONDS = 60
_MEMORY_HEADROOM = 2 << 30
_XGB_LOCATION = re.compile(r"^\[[\d:]+\] \S+: ")  # "[02:49:06] /workspace/src/x.cc:42: " before the message
_FIXED = {b"i": 1, b"U": 1, b"C": 1, b"I": 2, b"l": 4, b"d": 4, b"L": 8, b"D": 8}
_EMPTY = {b"Z", b"N", b"T", b"F"}
_INTS = {b"i": ">b", b"U": ">B", b"I": ">h", b"l": ">i", b"L": ">q"}
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


@dataclass(frozen=True)
class ModelProblem:
    code: str  # BAD_XGBOOST_MODEL, MODEL_UNPARSEABLE or PICKLE_DATA
    message: str


class _Malformed(Exception):
    pass


class _TooDeep(Exception):
    pass


def _int(data: bytes, pos: int) -> tuple[int, int]:
    marker = data[pos:pos + 1]
    if marker not in _INTS:
        raise _Malformed(f"a UBJSON length at byte {pos} is not an integer")
    width = _FIXED[marker]
    if pos + 1 + width > len(data):
        raise _Malformed("the UBJSON ends inside a number")
    (value,) = struct.unpack_from(_INTS[marker], data, pos + 1)
    if value < 0:
        raise _Malformed(f"a negative UBJSON length at byte {pos}")
    return value, pos + 1 + width


def _skip_scalar(data: bytes, pos: int, marker: bytes) -> int:
    if marker in _EMPTY:
        return pos
    if marker in _FIXED:
        return pos + _FIXED[marker]
    if marker in (b"S", b"H"):
        length, pos = _int(data, pos)
        return pos + length
    raise _Malformed(f"unknown UBJSON marker {marker!r}")


def ubjson_end(data: bytes, max_depth: int = MAX_DEPTH) -> int:
    """The offset just after the first complete UBJSON value in ``data`` (iterative, depth-bounded)."""
    # Frame: [closing marker, remaining count or None, element type or None, expecting a key]
    stack: list[list] = []
    pos = 0
    while True:
        if stack:
            frame = stack[-1]
            closing, remaining, typed, is_object = frame
            if remaining == 0 or (remaining is None and data[pos:pos + 1] == closing):
                stack.pop()
                pos += 0 if remaining == 0 else 1
                if not stack:
                    return pos
                continue
            if remaining is not None:
                frame[1] -= 1
            if is_object:
                length, pos = _int(data, pos)
                pos += length
            if typed is not None and typed in _FIXED and remaining is not None:
                # A typed array of numbers: skip it whole (XGBoost stores its weights this way).
                pos += _FIXED[typed] * (remaining if not is_object else 1)
                if not is_object:
                    frame[1] = 0
                if pos > len(data):
                    raise _Malformed("the UBJSON ends inside a typed array")
                continue
            marker = typed
            if marker is None:
                marker = data[pos:pos + 1]
                pos += 1
        else:
            marker = data[pos:pos + 1]
            pos += 1
        if not marker:
            raise _Malformed("the UBJSON ends before its closing marker")
        if marker in (b"[", b"{"):
            if len(stack) >= max_depth:
                raise _TooDeep
            typed, count = None, None
            if data[pos:pos + 1] == b"$":
                typed, pos = data[pos + 1:pos + 2], pos + 2
            if data[pos:pos + 1] == b"#":
                count, pos = _int(data, pos + 1)
            elif typed is not None:
                raise _Malformed("a typed UBJSON container has no count")
            stack.append([b"]" if marker == b"[" else b"}", count, typed, marker == b"{"])
            continue
        pos = _skip_scalar(data, pos, marker)
        if pos > len(data):
            raise _Malformed("the UBJSON ends inside a value")
        if not stack:
            return pos


def _json_end(raw: bytes, max_depth: int = MAX_DEPTH) -> int:
    """The offset just after the top-level JSON value's closing brace, counting nesting on the way.

    Only strings and brackets are visited (numbers, the bulk of a model, are skipped by the regex engine), so
    this costs a fraction of parsing; whether the JSON is otherwise valid is XGBoost's call, in the child.
    """
    depth = 0
    for token in _JSON_TOKENS.finditer(raw):
        mark = token.group()[:1]
        if mark in (b"{", b"["):
            depth += 1
            if depth > max_depth:
                raise _TooDeep
        elif mark in (b"}", b"]"):
            depth -= 1
            if depth == 0:
                return token.end()
            if depth < 0:
                raise _Malformed("a closing bracket with no opening one")
    raise _Malformed("the JSON ends before its closing brace")


def _structure_problem(raw: bytes) -> ModelProblem | None:
    is_json = raw[1:2] in (b'"', b" ", b"\n", b"\r", b"\t", b"}")
    try:
        end = _json_end(raw) if is_json else ubjson_end(raw)
    except _TooDeep:
        return ModelProblem("MODEL_UNPARSEABLE", f"it nests more than {MAX_DEPTH} levels deep (a native model "
                                                 "nests about eight); not handed to XGBoost's parser")
    except (_Malformed, struct.error) as err:
        return ModelProblem("BAD_XGBOOST_MODEL", f"it is not well-formed {'JSON' if is_json else 'UBJSON'} ({err})")
    rest = raw[end:]
    if rest.strip(b" \t\r\n"):
        found = pickles.find_pickle(rest)
        if found is not None:
            return ModelProblem("PICKLE_DATA", f"{len(rest):,} bytes follow the model, holding "
                                               f"{found.describe()} (counted from the model's end)")
        return ModelProblem("BAD_XGBOOST_MODEL", f"{len(rest):,} bytes follow the end of the model")
    return None


def _child_load(raw: bytes, write_fd: int) -> None:
    """In the forked child: limit memory and CPU, load, report one line, exit without cleanup."""
    status = b"ok"
    try:
        faulthandler.disable()  # a crash here is the expected, reported outcome: no dump on the user's terminal
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
        limit = pages * os.sysconf("SC_PAGE_SIZE") + _MEMORY_HEADROOM + 16 * len(raw)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (LOAD_SECONDS, LOAD_SECONDS + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash is reported, not dumped
        import xgboost

        # One thread: an OpenMP pool the parent started does not survive the fork, and waiting on it hangs.
        xgboost.set_config(nthread=1)
        booster = xgboost.Booster(params={"nthread": 1})
        booster.load_model(bytearray(raw))
        booster.num_boosted_rounds()
    except MemoryError:
        status = b"memory"
    except BaseException as err:  # the child reports every failure as text, then exits
        text = str(err).strip().splitlines() or ["unknown error"]
        status = b"error " + _XGB_LOCATION.sub("", text[0])[:200].encode("utf-8", "replace")
    finally:
        try:
            os.write(write_fd, status)
        finally:
            os._exit(0)


def _load_in_child(raw: bytes, seconds: float) -> ModelProblem | None:
    if threading.active_count() > 1:
        return _load_in_fresh_interpreter(raw, seconds)
    return _load_in_fork(raw, seconds)


def _load_in_fork(raw: bytes, seconds: float) -> ModelProblem | None:
    import xgboost  # noqa: F401 - imported before the fork, so the child does not import under a memory limit

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_fd)
        _child_load(raw, write_fd)
    os.close(write_fd)
    message, deadline = b"", time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return _timed_out(seconds)
            chunk = os.read(read_fd, 4096)
            if not chunk:
                break
            message += chunk
    finally:
        os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    signalled = signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else None
    return _outcome(message, signalled)


def _load_in_fresh_interpreter(raw: bytes, seconds: float) -> ModelProblem | None:
    """The same load in a new Python process (``python -m governance.integrity.model_check``): no inherited locks."""
    try:
        done = subprocess.run([sys.executable, "-m", "governance.integrity.model_check"], input=raw,
                              capture_output=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:  # run() has killed and reaped the child
        return _timed_out(seconds)
    signalled = signal.Signals(-done.returncode).name if done.returncode < 0 else None
    return _outcome(done.stdout, signalled)


def _timed_out(seconds: float) -> ModelProblem:
    return ModelProblem("MODEL_UNPARSEABLE", f"XGBoost did not finish parsing it in {seconds:g} s")


def _outcome(message: bytes, signalled: str | None) -> ModelProblem | None:
    """The child's one-line report (or the signal that killed it) as a problem, ``None`` for a clean load."""
    if signalled is not None:
        return ModelProblem("MODEL_UNPARSEABLE", f"XGBoost's parser crashed on it ({signalled})")
    if message == b"ok":
        return None
    if message == b"memory":
        return ModelProblem("MODEL_UNPARSEABLE", "XGBoost ran out of its memory limit parsing it")
    if message.startswith(b"error "):
        text = message[6:].decode("utf-8", "replace")
        if "decode" in text and "utf-8" in text:  # xgboost echoes bad input and fails to decode its own message
            return ModelProblem("BAD_XGBOOST_MODEL", "XGBoost cannot load it (it rejects bytes that are not valid "
                                                     "UTF-8)")
        return ModelProblem("BAD_XGBOOST_MODEL", "XGBoost cannot load it: " + text)
    return ModelProblem("MODEL_UNPARSEABLE", "XGBoost's parser exited without a result")


def check_model(raw: bytes, *, seconds: float = LOAD_SECONDS) -> ModelProblem | None:
    """Why ``raw`` is not a loadable native XGBoost model and nothing else, or ``None``. Never unpickles."""
    if raw[:1] != b"{":  # both JSON and UBJSON models open with an object marker
        return ModelProblem("BAD_XGBOOST_MODEL", "it is neither JSON nor UBJSON (a native model starts with '{')")
    problem = _structure_problem(raw)
    if problem is not None:
        return problem
    return _load_in_child(raw, seconds)


if __name__ == "__main__":  # pragma: no cover - the fresh-interpreter child: model bytes on stdin, one line out
    _child_load(sys.stdin.buffer.read(), sys.stdout.fileno())
