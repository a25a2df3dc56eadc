#!/usr/bin/env bash
# The rnnkit command (`rnnkit compare` is the main job), run from .venv, which is created on first use.
HERE="$PWD"
source "$(dirname "$0")/_env.sh"
cd "$HERE"  # paths on the command line and the report folder are the caller's
exec rnnkit "$@"
