#!/usr/bin/env bash
# `npm run prices -- export <book>` / `npm run prices -- import <book> (<file> [--format tokenmeter|litellm] | --shipped) [--effective-from ISO]`:
# a price book's prices as a catalog file, or a catalog into a book, in the database of DATABASE_URL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

run_command prices "$@"
