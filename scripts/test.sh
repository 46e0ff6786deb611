#!/usr/bin/env bash
# `npm test`: the whole suite against a real Kafka broker, PostgreSQL and Redis on 127.0.0.1.
# `bash scripts/test.sh FILE...` runs only those files (`npm run test:fuzz` does, with long runs).
# Migrations are applied to a freshly created template database; each test file clones its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

export NODE_ENV=test
export KAFKAJS_NO_PARTITIONER_WARNING=1
# the template every test file clones (see test/helpers/db.ts)
export DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/tokenmeter_test_template}"

# the whole suite starts with the static checks: format, lint, unused code, types
if [ "$#" -eq 0 ]; then
  npm run --silent lint
  npm run --silent typecheck
fi

ensure_kafka
ensure_chromium
build_ui
node --import tsx scripts/reset-database.ts
prepare_database

if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-reporter=spec --test-reporter-destination=stdout "${files[@]}"
