#!/usr/bin/env bash
# `npm run import:kong -- <kong.yaml> [--dry-run] [--actor NAME] [--json]`: imports consumers and
# their user-metadata from a Kong declarative config into the database of DATABASE_URL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

run_command import-kong "$@"
