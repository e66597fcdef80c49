"""Process settings that must be in place before TensorFlow is imported.

Hugging Face's TF classes (transformers 4.x) are Keras 2 models. TensorFlow
>= 2.16 puts Keras 3 behind `tf.keras` unless `TF_USE_LEGACY_KERAS=1` is set
before TensorFlow is imported, so `import kerasbert` sets it (and nothing
else heavy: this module imports no third-party package).

`quiet_third_party()` silences the known-harmless noise of TensorFlow,
absl and transformers (C++ log lines, the "cuInit" error on machines
without a GPU, the "TensorFlow classes are deprecated" banner, the
`seed_generator` warning). The command line calls it unless `--debug`;
library users keep their own logging.
"""

import logging
import os
import re
import threading
import warnings

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Lines that TensorFlow's C++ runtime writes straight to file descriptor 2:
# glog/absl lines ("I0000 00:00:1796121868.986051    3063 port.cc:153] ...")
# and absl's note that logging is not initialised yet.
_NATIVE_LOG_LINE = re.compile(rb"^(?:[IWEF]\d{4} [\d:.]+ +\d+ [^\]]+\] |WARNING: All log messages before "
                              rb"absl::InitializeLog\(\) is called are written to STDERR)")
_NATIVE_PREFIX = re.compile(rb"^(?:[IWEF]\d{0,4}(?: [\d:.]*)?|W(?:A(?:R(?:N(?:I(?:N(?:G(?::.*)?)?)?)?)?)?)?)$")

# Python warnings that say nothing to a kerasbert user.
_HARMLESS_WARNINGS = (
    r"`seed_generator` is deprecated",
    r"TensorFlow and JAX classes are deprecated",
)


def quiet_third_party():
    """Silence TensorFlow's, absl's and transformers' known-harmless messages.

    Sets the environment variables they read at import (so call it before
    TensorFlow loads), filters the Python warnings listed above, and drops
    native log lines from file descriptor 2 while passing everything else
    (progress bars, tracebacks) through unchanged.
    """
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    for pattern in _HARMLESS_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    # TensorFlow's Python warnings (e.g. "Model failed to serialize as JSON" for a training-only layer).
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    _NativeLogFilter.install()


class _NativeLogFilter:
    """Sits between file descriptor 2 and the terminal and drops native log lines.

    Text that cannot be the start of such a line (a tqdm bar redrawn with
    `\\r`, a message) is passed on at once, so progress stays live.
    """

    _installed = None

    @classmethod
    def install(cls):
        if cls._installed is not None:
            return cls._installed
        try:
            original = os.dup(2)
            read_end, write_end = os.pipe()
            os.dup2(write_end, 2)
            os.close(write_end)
        except OSError:  # no usable descriptor 2 (a closed or unusual stderr): leave it alone
            return None
        cls._installed = cls(read_end, original)
        return cls._installed

    def __init__(self, read_end, original):
        self.read_end, self.original = read_end, original
        self.thread = threading.Thread(target=self._pump, name="kerasbert-stderr-filter", daemon=True)
        self.thread.start()
        import atexit

        atexit.register(self.close)

    def _pump(self):
        pending = b""
        while True:
            try:
                chunk = os.read(self.read_end, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            pending = self._flush(pending)
        if pending and not _NATIVE_LOG_LINE.match(pending):
            os.write(self.original, pending)

    def _flush(self, pending):
        """Write out every complete line that is not a native log line; return what must wait."""
        out = []
        while pending:
            line, newline, rest = pending.partition(b"\n")
            if not newline:
                tail = line.rsplit(b"\r", 1)[-1]
                if _NATIVE_PREFIX.match(tail) or _NATIVE_LOG_LINE.match(tail):
                    break  # may become a native log line: wait for its end
                out.append(line)
                pending = b""
                break
            if not _NATIVE_LOG_LINE.match(line.rsplit(b"\r", 1)[-1]):
                out.append(line + newline)
            pending = rest
        if out:
            os.write(self.original, b"".join(out))
        return pending

    def close(self):
        """Restore file descriptor 2 and write out what is left."""
        try:
            import sys

            sys.stderr.flush()
        except (AttributeError, ValueError, OSError):
            pass
        try:
            os.dup2(self.original, 2)  # closes the pipe's write end: the pump sees the end
        except OSError:
            return
        self.thread.join(timeout=2)
