#!/usr/bin/env bash
# `npm run bench [-- --n 3000 --concurrency 16]`: the metering benchmark on a fresh database.
# `npm run bench:authorize [-- --n 5000 --concurrency 8]`: the gateway's authorize call.
# `npm run bench:tokens`: token counting alone (also printed first by `npm run bench`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

export KAFKAJS_NO_PARTITIONER_WARNING=1
export DATABASE_URL="${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/tokenmeter_bench_test}"
ensure_kafka
node --import tsx scripts/reset-database.ts
prepare_database >/dev/null
if [ "${1:-}" = "tokens" ]; then
  exec node --import tsx scripts/bench-tokens.ts
fi
if [ "${1:-}" = "authorize" ]; then
  shift
  exec node --import tsx scripts/bench-authorize.ts "$@"
fi
node --import tsx scripts/bench-tokens.ts
exec node --import tsx scripts/bench.ts "$@"
