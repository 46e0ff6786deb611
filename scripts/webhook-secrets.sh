#!/usr/bin/env bash
# `npm run webhook-secrets -- reencrypt`: every webhook endpoint's signing secret re-encrypted under
# WEBHOOK_SECRET_KEY, read with it or WEBHOOK_PREVIOUS_SECRET_KEYS, in the database of DATABASE_URL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

run_command webhook-secrets "$@"
