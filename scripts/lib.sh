# Shared steps of start.sh, test.sh and bench.sh (sourced, not run).

# A local broker is started only when KAFKA_BROKERS is unset or names this machine's default
# broker and nothing answers there; a broker named elsewhere is used as is.
ensure_kafka() {
  local brokers="${KAFKA_BROKERS:-127.0.0.1:9092}"
  local first="${brokers%%,*}"
  local host="${first%:*}" port="${first##*:}"
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    echo "using Kafka at $brokers" >&2
  elif [ "$host" = "127.0.0.1" ] || [ "$host" = "localhost" ]; then
    KAFKA_LOCAL_PORT="$port" bash scripts/kafka-local.sh start
  else
    echo "Kafka at $brokers does not answer" >&2
    return 1
  fi
}

# Generates the Prisma client, creates the database if needed and applies the migrations.
prepare_database() {
  npx --no-install prisma generate >/dev/null
  node --import tsx scripts/ensure-database.ts
  npx --no-install prisma migrate deploy
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
