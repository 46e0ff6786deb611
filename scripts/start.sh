#!/usr/bin/env bash
# `npm start`: starts (or reuses) Kafka, prepares the database, then runs the API and a meter worker.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

ensure_kafka
prepare_database
exec node --import tsx src/main.ts
