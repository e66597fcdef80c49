"""Hardware choices both roads share: the strategy and precision names, and which precision suits a device.

No framework is imported here: the tf-keras road (`kerasbert.distribute`) and
the Keras 3 road (`kerasbert.keras3.distribution`) find their devices and ask
`precision_for_device`.
"""

STRATEGIES = ("auto", "tpu", "mirrored", "multi_worker", "default")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")

# CPU features with which bfloat16 makes the encoder faster. AMX tiles (Intel
# Sapphire Rapids and later) multiply bfloat16 many times faster than float32.
# AVX-512 BF16 alone doubles the matmul peak but did not speed the encoder up
# (2026-11-25, AMD EPYC, TF 2.21: predict 49.7 vs 49.9 examples/s, training
# 0.5x-1.3x; benchmarks/RESULTS.md), so it keeps float32.
CPU_BFLOAT16_FLAGS = ("amx_bf16",)


def cpu_flags(path="/proc/cpuinfo"):
    """The CPU feature flags of this machine (empty where /proc/cpuinfo is missing)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_bfloat16(flags=None):
    """True where bfloat16 is worth using on this CPU (AMX; see `CPU_BFLOAT16_FLAGS`)."""
    flags = cpu_flags() if flags is None else set(flags)
    return any(flag in flags for flag in CPU_BFLOAT16_FLAGS)


def precision_for_device(setting, kind):
    """The Keras policy name for a precision setting on a device kind (`"tpu"`, `"gpu"` or `"cpu"`).

    `auto` is bfloat16 on TPU, float16 on GPU, bfloat16 on a CPU with AMX
    tiles, and float32 on other CPUs (see `CPU_BFLOAT16_FLAGS`).
    """
    if setting not in PRECISIONS:
        raise ValueError("mixed precision must be one of %s, got %r" % (", ".join(PRECISIONS), setting))
    if setting != "auto":
        return setting
    if kind == "cpu":
        return "mixed_bfloat16" if cpu_has_bfloat16() else "float32"
    return {"tpu": "mixed_bfloat16", "gpu": "mixed_float16"}.get(kind, "float32")
