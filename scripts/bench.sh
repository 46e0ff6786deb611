#!/usr/bin/env bash
# `npm run bench [-- --n 3000 --concurrency 16]`: the metering benchmark on a fresh database.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

export KAFKAJS_NO_PARTITIONER_WARNING=1
export DATABASE_URL="${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/tokenmeter_bench_test}"
ensure_kafka
node --import tsx scripts/reset-database.ts
prepare_database >/dev/null
exec node --import tsx scripts/bench.ts "$@"
