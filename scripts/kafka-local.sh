#!/usr/bin/env bash
# A single-node KRaft Kafka broker on 127.0.0.1, run from Apache Kafka's jars on Maven Central.
#   scripts/kafka-local.sh start|stop|kill|status|reset   (kill = SIGKILL, for fault tests)
# Instances are isolated by KAFKA_LOCAL_PORT (default 9092; controller on port+1) so a test can run
# a broker of its own and stop it without disturbing the shared one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION=3.9.1
PORT="${KAFKA_LOCAL_PORT:-9092}"
CONTROLLER_PORT=$((PORT + 1))
BASE="$ROOT/.kafka"
LIBS="$BASE/libs"
INSTANCE="$BASE/broker-$PORT"
DATA="$INSTANCE/data"
CONF="$INSTANCE/conf"
LOGS="$INSTANCE/logs"
PIDFILE="$INSTANCE/kafka.pid"
# Maven's own cache survives between runs on one machine; a fresh clone only copies jars out of it.
M2_REPO="${KAFKA_LOCAL_M2:-$HOME/.m2/repository}"

log() { echo "kafka-local[$PORT]: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fetch_jars() {
  [ -f "$LIBS/.version-$KAFKA_VERSION" ] && return 0
  log "resolving Kafka $KAFKA_VERSION jars through Maven"
  rm -rf "$LIBS"
  mvn -B -q -Dstyle.color=never -f "$ROOT/scripts/kafka/pom.xml" -Dmaven.repo.local="$M2_REPO" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS"
  touch "$LIBS/.version-$KAFKA_VERSION"
}

write_config() {
  mkdir -p "$DATA" "$CONF" "$LOGS"
  cat >"$CONF/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
# one node: internal topics cannot have the default replication factor of 3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
# sized for a 2-core machine and a 512 MiB heap
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=16777216
PROPS
  cat >"$CONF/log4j.properties" <<'PROPS'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.controller=WARN
log4j.logger.org.apache.kafka.controller=WARN
PROPS
}

start() {
  if running_pid >/dev/null; then log "already running (pid $(running_pid))"; return 0; fi
  if port_open "$PORT"; then log "port $PORT already answers; reusing that broker"; return 0; fi
  fetch_jars
  write_config
  local l4j="-Dlog4j.configuration=file:$CONF/log4j.properties"
  if [ ! -f "$DATA/meta.properties" ]; then
    local cid
    cid="$(java -Xmx128m "$l4j" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)"
    java -Xmx256m "$l4j" -cp "$LIBS/*" kafka.tools.StorageTool format -t "$cid" \
      -c "$CONF/server.properties" --ignore-formatted >"$LOGS/format.out" 2>&1
  fi
  nohup java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true "$l4j" -Dkafka.logs.dir="$LOGS" \
    -cp "$LIBS/*" kafka.Kafka "$CONF/server.properties" >"$LOGS/kafka.out" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  # The broker opens its data port only once startup has finished, so an open port means ready.
  for _ in $(seq 240); do
    if port_open "$PORT"; then log "ready on 127.0.0.1:$PORT"; return 0; fi
    if ! running_pid >/dev/null; then tail -n 60 "$LOGS/kafka.out" >&2; log "broker exited during startup"; return 1; fi
    sleep 0.25
  done
  log "not ready after 60 s"; tail -n 60 "$LOGS/kafka.out" >&2; return 1
}

stop() {
  local pid
  pid="$(running_pid)" || { log "not running"; rm -f "$PIDFILE"; return 0; }
  kill -TERM "$pid"
  for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; log "stopped"; return 0; }; sleep 0.25; done
  log "no exit after 30 s of SIGTERM; killing"; kill -KILL "$pid" 2>/dev/null || true; rm -f "$PIDFILE"
}

kill_now() {
  local pid
  pid="$(running_pid)" || { log "not running"; rm -f "$PIDFILE"; return 0; }
  kill -KILL "$pid"
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  rm -f "$PIDFILE"; log "killed"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) kill_now ;;
  status) if pid="$(running_pid)"; then echo "running (pid $pid) on 127.0.0.1:$PORT"; else echo "stopped"; exit 1; fi ;;
  reset) stop; rm -rf "$DATA"; log "data removed" ;;
  fetch) fetch_jars ;;
  *) echo "usage: $0 start|stop|kill|status|reset|fetch" >&2; exit 2 ;;
esac
