#!/usr/bin/env bash
# `npm run bench [-- --events 30000 --runs 3 ...]`: token counting, the metering pipeline under
# Kong-like load, and billing at scale, on a fresh database (options: scripts/bench.ts).
# `npm run bench:authorize [-- --n 5000 --concurrency 8]`: the gateway's authorize call.
# `npm run bench:merge`: calls reported by http-log alone against http-log plus CloudEvents (merging).
# `npm run bench:pricing`: the meter with consumers priced by their own rate against consumers on a plan.
# `npm run bench:cli [-- --runs 5]`: each command's time per call, set up once.
# `npm run bench:tokens`: token counting alone; `npm run bench:billing [-- --events 5000000]`: billing at scale alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

export KAFKAJS_NO_PARTITIONER_WARNING=1
export DATABASE_URL="${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/tokenmeter_bench_test}"
if [ "${1:-}" = "cli" ]; then
  # the commands need PostgreSQL and Redis only
  shift
  node --import tsx scripts/reset-database.ts
  prepare_database >/dev/null
  exec node --import tsx scripts/bench/cli.ts "$@"
fi
ensure_kafka
node --import tsx scripts/reset-database.ts
prepare_database >/dev/null
if [ "${1:-}" = "tokens" ]; then
  exec node --import tsx scripts/bench/tokens.ts
fi
if [ "${1:-}" = "billing" ]; then
  shift
  export DATABASE_URL="${BENCH_BILLING_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/tokenmeter_bench_billing_test}"
  node --import tsx scripts/reset-database.ts
  prepare_database >/dev/null
  exec node --import tsx scripts/bench/billing.ts "$@"
fi
if [ "${1:-}" = "merge" ]; then
  shift
  exec node --import tsx scripts/bench/merge.ts "$@"
fi
if [ "${1:-}" = "pricing" ]; then
  shift
  exec node --import tsx scripts/bench/pricing.ts "$@"
fi
if [ "${1:-}" = "authorize" ]; then
  shift
  exec node --import tsx scripts/bench/authorize.ts "$@"
fi
echo "bench commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) date=$(date -u +%Y-%m-%d) cores=$(nproc)"
node --import tsx scripts/bench/tokens.ts
node --import tsx scripts/bench.ts "$@"
# billing at scale on a database of its own: 1 000 consumers, 5 million events
export DATABASE_URL="${BENCH_BILLING_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/tokenmeter_bench_billing_test}"
node --import tsx scripts/reset-database.ts
prepare_database >/dev/null
exec node --import tsx scripts/bench/billing.ts ${BENCH_BILLING_ARGS:-}
