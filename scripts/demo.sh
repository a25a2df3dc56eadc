#!/usr/bin/env bash
# The main job: the seed's SimpleRNN, LSTM and GRU models trained and compared.
source "$(dirname "$0")/_env.sh"
exec rnnkit demo "$@"
