#!/usr/bin/env bash
# Create .venv with tracker and its test tools. torch 2.13.0 goes first: on CPU
# machines pip takes it from local disk, and tracker's open `torch>=2.2` range is
# then already satisfied instead of pulling a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[dev,postgres]"
