#!/usr/bin/env bash
# npm test: install what is missing (npm packages, the Temporal CLI, Chromium
# and redis-server), type-check, then run every test file with
# node's test runner (tests start their own Temporal dev server, mock and API
# on free ports, so they run beside a live `npm start`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Chromium and redis-server for the tests that run them: installed into .tools/ the first time.
node --import tsx scripts/install-test-tools.ts
echo "[test] type-checking" >&2
node_modules/.bin/tsc --noEmit -p .
echo "[test] linting (import directions, floating promises)" >&2
node_modules/.bin/eslint .
# test/production/ runs a real cluster built from source: `npm run test:production`.
mapfile -t files < <(find test -path test/production -prune -o -name '*.test.ts' -print | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-timeout=300000 "${files[@]}"
