"""The command line's output is the user's: third-party noise is silenced unless --debug."""

import os
import subprocess
import sys

from kerasbert.environment import _NativeLogFilter

NOISE = ("I0000 ", "E0000 ", "cuInit", "absl::InitializeLog", "TensorFlow and JAX classes are deprecated")


def run_kerasbert(*args):
    return subprocess.run([sys.executable, "-m", "kerasbert", *args], capture_output=True, text=True, timeout=300)


def test_help_prints_only_help():
    result = run_kerasbert("--help")
    assert result.returncode == 0 and "train" in result.stdout
    assert not [marker for marker in NOISE if marker in result.stderr], result.stderr[-2000:]


def test_a_user_error_is_one_line_without_noise(tmp_path):
    result = run_kerasbert("predict", "--model", str(tmp_path / "nowhere"), "--input", str(tmp_path / "x.csv"),
                           "--output", str(tmp_path / "out.csv"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kerasbert: error: %s: no such model folder (expected the output folder of kerasbert train)"
        % (tmp_path / "nowhere")]


def test_the_filter_drops_native_log_lines_and_passes_the_rest_at_once():
    read_end, write_end = os.pipe()
    shown, terminal = os.pipe()
    stream = _NativeLogFilter.__new__(_NativeLogFilter)
    stream.original = terminal
    pending = stream._flush(
        b"I0000 00:00:1796121868.986051    3063 port.cc:153] oneDNN custom operations are on.\n"
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        b"Recipe douban: classification\n"
        b"\rtokenize:  50%")
    assert pending == b""  # a progress bar cannot be a native log line: written at once
    assert stream._flush(b"E0000 00:00:17.5 12 cuda_platform.cc:52] failed call to cu") == (
        b"E0000 00:00:17.5 12 cuda_platform.cc:52] failed call to cu")  # waits for its end, then drops it
    os.close(terminal)
    with os.fdopen(shown, "rb") as handle:
        assert handle.read() == b"Recipe douban: classification\n\rtokenize:  50%"
    os.close(read_end)
    os.close(write_end)
