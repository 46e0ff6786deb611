#!/usr/bin/env bash
# `npm run test:faults`: see scripts/faults.ts. Needs root (or the postgres user's rights) for
# pg_createcluster, and fetches Kafka's jars like the other commands.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh
export KAFKAJS_NO_PARTITIONER_WARNING=1
command -v pg_createcluster >/dev/null || { echo "test:faults needs pg_createcluster (Debian's postgresql-common)" >&2; exit 2; }
npx --no-install prisma generate >/dev/null
bash scripts/kafka-local.sh fetch
exec node --import tsx scripts/faults.ts "$@"
