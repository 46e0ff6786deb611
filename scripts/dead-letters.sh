#!/usr/bin/env bash
# `npm run dead-letters -- list|show|replay ...`: the dead letters recorded in the database of
# DATABASE_URL (replay also needs the Kafka of KAFKA_BROKERS). See scripts/dead-letters.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

run_command dead-letters "$@"
