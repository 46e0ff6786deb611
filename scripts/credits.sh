#!/usr/bin/env bash
# `npm run credits -- balance|ledger|grant|void ...`: a consumer's prepaid credit, in the database of DATABASE_URL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

run_command credits "$@"
