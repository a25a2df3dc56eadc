#!/usr/bin/env bash
# The test suite (needs neither Keras nor TensorFlow: Keras's numbers are in tests/data/).
source "$(dirname "$0")/_env.sh"
exec python -m pytest "$@"
