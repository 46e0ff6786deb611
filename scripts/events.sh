#!/usr/bin/env bash
# `npm run events -- months|archive|restore ...`: usage_events' months in the database of
# DATABASE_URL, archiving a settled month to a file and restoring it. See scripts/events.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

run_command events "$@"
