#!/usr/bin/env bash
# `npm start`: starts (or reuses) Kafka, prepares the database, builds the dashboard, then runs the
# API with the meter, invoice and webhook workers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

ensure_kafka
prepare_database
build_ui
exec node --import tsx workers/main.ts
