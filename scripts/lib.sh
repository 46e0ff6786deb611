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
