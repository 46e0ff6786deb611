#!/usr/bin/env bash
# `npm run setup`: what every command needs, done once: the generated Prisma client, the
# database (created if missing) with every migration applied, and the dashboard built. npm start
# runs it too; run it again after pulling a release with new migrations.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

prepare_database
build_ui
