#!/usr/bin/env bash
# npm run test:production: the tests against a production-shaped Temporal
# cluster (the real temporal-server on PostgreSQL, mTLS, JWT authorization).
# Not part of `npm test`: the first run builds the server from source (about
# ten minutes on two cores) and the Temporal UI server (about a minute), here
# and not inside a test's timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
node --import tsx scripts/temporal-server.ts >/dev/null
node --import tsx scripts/temporal-ui.ts >/dev/null
mapfile -t files < <(find test/production -name '*.test.ts' | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
