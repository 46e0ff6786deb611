# Shared steps of start.sh, test.sh and bench.sh (sourced, not run).

# A local broker is started only when KAFKA_BROKERS is unset or names this machine's default
# broker and nothing answers there; a broker named elsewhere is used as is.
ensure_kafka() {
  local brokers="${KAFKA_BROKERS:-127.0.0.1:9092}"
  local first="${brokers%%,*}"
  local host="${first%:*}" port="${first##*:}"
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    echo "using Kafka at $brokers" >&2
    export TOKENMETER_KAFKA_STATE="already running, reused"
  elif [ "$host" = "127.0.0.1" ] || [ "$host" = "localhost" ]; then
    KAFKA_LOCAL_PORT="$port" bash scripts/kafka-local.sh start
    export TOKENMETER_KAFKA_STATE="started here (npm run kafka:down stops it)"
  else
    echo "Kafka at $brokers does not answer" >&2
    return 1
  fi
}

# Generates the Prisma client, creates the database if needed, applies the migrations and makes
# usage_events' months around today.
prepare_database() {
  npx --no-install prisma generate >/dev/null 2>&1 || npx --no-install prisma generate
  local created
  created=$(node --import tsx scripts/ensure-database.ts)
  [ -n "$created" ] && echo "$created"
  export TOKENMETER_DATABASE_STATE="${created:+created}"
  # Prisma's notes about its config and driver adapter are not news to the operator: only its outcome is shown
  local out
  if ! out=$(npx --no-install prisma migrate deploy 2>&1); then
    echo "$out" >&2
    return 1
  fi
  echo "$out" | grep -E "^(No pending migrations|All migrations have been successfully applied|The following migration)" || true
  TOKENMETER_MIGRATIONS_APPLIED=$(echo "$out" | grep -c "migration.sql" || true)
  export TOKENMETER_MIGRATIONS_APPLIED
  node --import tsx scripts/make-months.ts
  node --import tsx scripts/build-commands.ts
}

# A command runs against what `npm run setup` (or npm start) prepared: the generated Prisma client
# here, and the migrations in the database (each command checks those in milliseconds).
require_setup() {
  if [ ! -f src/db/generated/client.ts ]; then
    echo "tokenmeter is not set up in this checkout: run \`npm run setup\` (npm start does it too)" >&2
    return 2
  fi
}

# Runs one of the operator's commands from its bundle (scripts/build-commands.ts), rebuilt first
# when one of its sources changed since it was built.
run_command() {
  local name="$1"
  shift
  require_setup || return 2
  local bundle="dist/commands/$name.mjs"
  if [ ! -f "$bundle" ] || [ -n "$(find src scripts package.json -newer "$bundle" \( -name '*.ts' -o -name '*.json' \) -print -quit)" ]; then
    node --import tsx scripts/build-commands.ts "$name" >&2
  fi
  exec node "$bundle" "$@"
}

# Builds the dashboard (src/ui -> dist/ui) from the repo's own sources.
build_ui() {
  node --import tsx scripts/build-ui.ts
}

# The browser tests drive Debian's chromium. Installed here when missing and we may (root with
# apt-get); otherwise the run stops, naming the package, instead of skipping the browser tests.
ensure_chromium() {
  local browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$browser" ] && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the browser tests" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
  fi
  if [ ! -x "$browser" ]; then
    echo "the browser tests need Debian's chromium at $browser: install the package 'chromium' (apt-get install chromium) or set CHROMIUM_PATH" >&2
    return 1
  fi
}
