#!/usr/bin/env bash
# The rnnkit command (`rnnkit compare` is the main job), run from .venv, which is created on first use.
source "$(dirname "$0")/_env.sh"
exec rnnkit "$@"
