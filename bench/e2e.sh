#!/usr/bin/env bash
# End-to-end benchmark (not a test): intake → outgoing webhook latency. Junction receives
# order.paid events on POST /v1/events (an `api` source) and delivers each to a `webhook`
# destination pointing at bench/E2eSink; bench/E2eGen sends them open-loop at a fixed rate and
# joins its send times with the sink's arrival times. On SQLite and on PostgreSQL:
#   1. warm-up (discarded);
#   2. steady: BENCH_RATE events/s for BENCH_DURATION s → p50 / p99 / max latency;
#   3. ramp: BENCH_STEPS rates, BENCH_STEP_DURATION s each, stopping at the first step whose p99
#      exceeds BENCH_P99_LIMIT_MS (or that loses or refuses events) → the highest rate that passed.
# See bench/README.md ("e2e.sh") for how to read the output.
#
#   bash bench/e2e.sh
#
# Environment (all optional):
#   BENCH_ENGINES="sqlite postgres"
#   BENCH_RATE=500              events/s of the steady run
#   BENCH_DURATION=30           seconds of the steady run
#   BENCH_WARMUP=15             seconds of warm-up per Junction process (at BENCH_WARMUP_RATE)
#   BENCH_WARMUP_RATE=250
#   BENCH_STEPS="50 100 250 500 750 1000 1500 2000 3000 4000 6000"
#   BENCH_STEP_DURATION=10      seconds per ramp step
#   BENCH_P99_LIMIT_MS=1000     a step passes with p99 at or under this, nothing missing, nothing refused
#   BENCH_DRAIN=30              seconds after the last send to wait for deliveries still on their way
#   BENCH_HTTP_LOGS=0           1: keep Junction's per-request HttpClient info logs (4 lines a delivery)
#   BENCH_SKIP_BUILD=1          reuse bench/out/ from a previous run
#
# Layout: Junction runs on core 1, the generator and the sink on core 0 (PostgreSQL is not pinned:
# it shares both cores). Every process this script starts is stopped on exit; logs stay in
# bench/out/logs/.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
OUT=$BENCH_DIR/out
LOGS=$OUT/logs

ENGINES=${BENCH_ENGINES:-"sqlite postgres"}
RATE=${BENCH_RATE:-500}
DURATION=${BENCH_DURATION:-30}
WARMUP=${BENCH_WARMUP:-15}
WARMUP_RATE=${BENCH_WARMUP_RATE:-250}
STEPS=${BENCH_STEPS:-"50 100 250 500 750 1000 1500 2000 3000 4000 6000"}
STEP_DURATION=${BENCH_STEP_DURATION:-10}
P99_LIMIT_MS=${BENCH_P99_LIMIT_MS:-1000}
DRAIN=${BENCH_DRAIN:-30}
HTTP_LOGS=${BENCH_HTTP_LOGS:-0}
SERVER_CORE=1
LOAD_CORE=0
TOKEN=bench-admin-token
API_KEY=bench-api-key-0123456789
HOOK_SECRET=whsec_$(head -c 32 /dev/urandom | base64 -w0)
RUN_ID=$(printf '%04x' $((RANDOM % 65536)))   # in every order id: ids never repeat across runs

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[%s] FAILED: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- cleanup
PIDS=()
PG_STARTED=0
TMP=""
cleanup() {
  local status=$? pid i
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$PG_STARTED" = 1 ]; then pg_stop || true; fi
  [ -n "$TMP" ] && rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
  local i rest=()
  for i in "${PIDS[@]}"; do [ "$i" = "$1" ] || rest+=("$i"); done
  PIDS=("${rest[@]}")
}
stop_process() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# utime+stime of a process in clock ticks (0 once it is gone).
proc_ticks() {
  local f
  { read -r -a f < "/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
  echo $((f[13] + f[14]))
}
# utime+stime of every PostgreSQL process.
pg_ticks() {
  local sum=0 pid
  [ "$PG_STARTED" = 1 ] || { echo 0; return; }
  for pid in $(pgrep -u postgres 2>/dev/null || true); do sum=$((sum + $(proc_ticks "$pid"))); done
  echo "$sum"
}
HZ=$(getconf CLK_TCK)

# ---------------------------------------------------------------- preparation
[ "$(nproc --all)" -ge 2 ] || die "this benchmark pins Junction and the load to two different cores; this machine has $(nproc --all)"
mkdir -p "$OUT" "$LOGS"
TMP=$(mktemp -d /tmp/junction-e2e.XXXXXX)
command -v curl >/dev/null || { apt-get update -qq >/dev/null; apt-get install -y -qq curl >/dev/null; }
command -v sqlite3 >/dev/null || { apt-get update -qq >/dev/null; apt-get install -y -qq sqlite3 >/dev/null; }   # the stage breakdown

publish() {  # publish PROJECT NAME
  if ! timeout 900 dotnet publish "$1" -c Release -o "$OUT/$2" --artifacts-path "$OUT/artifacts" \
        -nologo -v quiet >"$LOGS/build-$2.log" 2>&1; then
    cat "$LOGS/build-$2.log" >&2
    die "dotnet publish $1"
  fi
}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building Release: src/Junction, bench/E2eSink, bench/E2eGen (into bench/out/)"
  publish "$ROOT/src/Junction/Junction.csproj" junction
  publish "$BENCH_DIR/E2eSink/E2eSink.csproj" e2esink
  publish "$BENCH_DIR/E2eGen/E2eGen.csproj" e2egen
fi
for f in junction/Junction.dll e2esink/E2eSink.dll e2egen/E2eGen.dll; do
  [ -f "$OUT/$f" ] || die "bench/out/$f is missing (run without BENCH_SKIP_BUILD)"
done

free_port() {
  local p i
  for i in $(seq 200); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free loopback port found"
}

# start_server NAME CORE PORT LOGFILE COMMAND… : starts it pinned to CORE, waits for /healthz; sets SERVER_PID.
start_server() {
  local name=$1 core=$2 port=$3 logfile=$4 i
  shift 4
  env -u JUNCTION_STORAGE taskset -c "$core" "$@" >"$logfile" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for i in $(seq 300); do
    if curl -fsS --max-time 1 -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
      log "$name up on 127.0.0.1:$port (pid $SERVER_PID, core $core)"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 "$logfile" >&2; die "$name exited during start-up (log: $logfile)"; }
    sleep 0.1
  done
  tail -n 30 "$logfile" >&2
  die "$name did not answer /healthz within 30 s (log: $logfile)"
}

# One Prometheus sample from Junction's /metrics (0 when absent).
metric() {  # metric NAME_REGEX
  awk -v re="^($1)[{ ]" '$0 ~ re { sum += $NF } END { printf "%.6f\n", sum + 0 }' "$TMP/metrics"
}
scrape() { curl -fsS --max-time 10 "http://127.0.0.1:$J_PORT/metrics" >"$TMP/metrics" 2>/dev/null || : >"$TMP/metrics"; }

declare -A R   # results: R[KEY.field]

# run_gen KEY RATE SECONDS : one open-loop run against Junction; fills R[KEY.*] from E2eGen's
# RESULT line, plus Junction's and PostgreSQL's CPU and Junction's own stage timings over the run.
run_gen() {
  local key=$1 rate=$2 seconds=$3 out=$TMP/gen.out line kv t0 t1 j0 j1 p0 p1
  local in_n0 in_s0 dq_n0 dq_s0 prefix="${RUN_ID}${1//[^a-z0-9]/}"
  R["$key.prefix"]=$prefix
  scrape
  in_n0=$(metric junction_intake_duration_seconds_count); in_s0=$(metric junction_intake_duration_seconds_sum)
  dq_n0=$(metric junction_dispatch_attempt_duration_seconds_count); dq_s0=$(metric junction_dispatch_attempt_duration_seconds_sum)
  t0=$EPOCHREALTIME; j0=$(proc_ticks "$J_PID"); p0=$(pg_ticks)
  if ! taskset -c "$LOAD_CORE" timeout $((seconds + DRAIN + 180)) dotnet "$OUT/e2egen/E2eGen.dll" \
      --url "http://127.0.0.1:$J_PORT" --key "$API_KEY" --sink "http://127.0.0.1:$SINK_PORT" \
      --rate "$rate" --duration "$seconds" --prefix "$prefix" --drain "$DRAIN" >"$out" 2>&1; then
    cat "$out" >&2
    die "E2eGen failed"
  fi
  t1=$EPOCHREALTIME; j1=$(proc_ticks "$J_PID"); p1=$(pg_ticks)
  line=$(grep '^RESULT ' "$out") || { cat "$out" >&2; die "E2eGen printed no RESULT line"; }
  grep -v '^RESULT ' "$out" | sed 's/^/    /' || true
  for kv in ${line#RESULT }; do R["$key.${kv%%=*}"]=${kv#*=}; done
  scrape
  # Over the whole run including the drain: % of one core; mean intake request time and mean
  # delivery attempt time inside Junction (its own histograms); the outbox depth left at the end.
  read -r "R[$key.j_cpu]" "R[$key.pg_cpu]" "R[$key.intake_mean_ms]" "R[$key.attempt_mean_ms]" < <(
    awk -v t0="$t0" -v t1="$t1" -v j="$((j1 - j0))" -v p="$((p1 - p0))" -v hz="$HZ" \
        -v in_n="$(metric junction_intake_duration_seconds_count)" -v in_s="$(metric junction_intake_duration_seconds_sum)" \
        -v in_n0="$in_n0" -v in_s0="$in_s0" \
        -v dq_n="$(metric junction_dispatch_attempt_duration_seconds_count)" -v dq_s="$(metric junction_dispatch_attempt_duration_seconds_sum)" \
        -v dq_n0="$dq_n0" -v dq_s0="$dq_s0" 'BEGIN {
      wall = t1 - t0
      printf "%d %d %.1f %.1f\n", 100 * j / hz / wall, 100 * p / hz / wall,
        (in_n > in_n0 ? 1000 * (in_s - in_s0) / (in_n - in_n0) : 0),
        (dq_n > dq_n0 ? 1000 * (dq_s - dq_s0) / (dq_n - dq_n0) : 0) }')
  R["$key.queue"]=$(metric junction_dispatch_queue_depth | cut -d. -f1)
}

# report KEY LABEL
report() {
  local k=$1
  printf '  %-14s %5s ev/s for %3s s: p50 %8s ms  p99 %8s ms  max %8s ms | arrived %s of %s accepted (%s sent), missing %s, refused %s\n' \
    "$2" "${R[$k.rate]}" "$3" "${R[$k.p50_ms]}" "${R[$k.p99_ms]}" "${R[$k.max_ms]}" "${R[$k.arrived]}" "${R[$k.accepted]}" \
    "${R[$k.sent]}" "${R[$k.missing]}" "${R[$k.failed]}"
  printf '  %-14s intake answer p50 %s ms p99 %s ms (from due time; in Junction mean %s ms); delivery attempt mean %s ms; generator lag max %s ms; drained %s s after the last send; outbox left %s\n' \
    "" "${R[$k.intake_p50_ms]}" "${R[$k.intake_p99_ms]}" "${R[$k.intake_mean_ms]}" "${R[$k.attempt_mean_ms]}" \
    "${R[$k.send_lag_max_ms]}" "${R[$k.drain_s]}" "${R[$k.queue]}"
  printf '  %-14s Junction %s%% of a core%s\n' "" "${R[$k.j_cpu]}" "$([ "$PG_STARTED" = 1 ] && echo ", PostgreSQL ${R[$k.pg_cpu]}% (unpinned)")"
}

# stages KEY: where the time went inside Junction for that run's orders, from the timestamps it
# stores: raw_events.received_at (intake) → normalization.updated_at (normalized) →
# deliveries.created_at (projected: the person state and the outbox row commit together) →
# first_attempt_at (claimed by the dispatcher) → completed_at (the sink answered). For each stage:
# p50/p99 of the time spent in it, and its throughput: how many batches it ran (rows sharing a
# timestamp were committed together), and events/s from its first to its last batch. A stage whose
# throughput stays below the offered rate while the one before it keeps up is the bottleneck.
stages() {
  local like="idempotency:${R[$1.prefix]}-%" rows=$TMP/stages.txt
  case $engine in
    sqlite)
      sqlite3 -readonly -separator ' ' "$TMP/junction-$RUN_ID.db" "
        SELECT CAST((julianday(r.received_at) - 2440587.5) * 86400000 AS INTEGER),
               CAST((julianday(n.updated_at) - 2440587.5) * 86400000 AS INTEGER),
               d.created_at, d.first_attempt_at, d.completed_at
        FROM raw_events r JOIN normalization n ON n.raw_id = r.id JOIN canonical_events c ON c.raw_id = r.id
        JOIN deliveries d ON d.event_id = c.id
        WHERE r.dedup_key LIKE '$like' AND d.completed_at IS NOT NULL" >"$rows" 2>"$TMP/stages.err" || : >"$rows" ;;
    postgres)
      "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U junction -d junction -qAtF ' ' -c "
        SELECT (extract(epoch FROM r.received_at) * 1000)::bigint, (extract(epoch FROM n.updated_at) * 1000)::bigint,
               d.created_at, d.first_attempt_at, d.completed_at
        FROM raw_events r JOIN normalization n ON n.raw_id = r.id JOIN canonical_events c ON c.raw_id = r.id
        JOIN deliveries d ON d.event_id = c.id
        WHERE r.dedup_key LIKE '$like' AND d.completed_at IS NOT NULL" >"$rows" 2>"$TMP/stages.err" || : >"$rows" ;;
  esac
  if [ ! -s "$rows" ]; then
    echo "                 stages: no rows ($(head -c 300 "$TMP/stages.err" 2>/dev/null))"
    return
  fi
  local col name pct batches
  pct() {  # pct P < numbers
    sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p + 0.999); print v[i < 1 ? 1 : i] }'
  }
  batches() {  # batches COLUMN: "batches per_batch events/s" of the stage that writes that column
    cut -d' ' -f"$1" "$rows" | sort -n | uniq -c | awk '
      { n += 1; total += $1; if (NR == 1) first = $2; last = $2 }
      END { printf "%d batches of %.1f, %s ev/s", n, total / n, (last > first ? sprintf("%.0f", 1000 * total / (last - first)) : "-") }'
  }
  echo "                 stages inside Junction ($(wc -l <"$rows") orders; ms spent in each stage, and the stage's throughput):"
  col=2
  for name in "intake → normalized" "normalized → projected" "projected → claimed" "claimed → delivered"; do
    printf '                   %-24s p50 %6s  p99 %6s   %s\n' "$name" \
      "$(awk -v c="$col" '{ print $c - $(c - 1) }' "$rows" | pct 0.50)" \
      "$(awk -v c="$col" '{ print $c - $(c - 1) }' "$rows" | pct 0.99)" \
      "$(batches "$col")"
    col=$((col + 1))
  done
  # The dispatcher claims up to BatchSize (16) tasks in one statement (they share first_attempt_at),
  # sends them concurrently and waits for every answer before the next claim: while the outbox is
  # backed up its rate is at most (tasks a round) / (claim-to-claim time).
  cut -d' ' -f4,5 "$rows" | sort -n | awk '
      { if ($1 != t) { if (t != "") print t, n, m; t = $1; n = 0; m = 0 } n++; if ($2 > m) m = $2 }
      END { if (t != "") print t, n, m }' >"$rows.rounds"
  local largest gap busy
  largest=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$rows.rounds")
  awk -v m="$largest" '{ t[NR] = $1; n[NR] = $2; d[NR] = $3 } END { for (i = 1; i < NR; i++) if (n[i] == m) print t[i + 1] - t[i], d[i] - t[i] }' \
    "$rows.rounds" >"$rows.full"
  gap=$(cut -d' ' -f1 "$rows.full" | pct 0.50)
  busy=$(cut -d' ' -f2 "$rows.full" | pct 0.50)
  printf '                   dispatcher rounds: %s claims; after a round of %s (the largest) the next claim came p50 %s ms later, its last answer p50 %s ms after the claim%s\n' \
    "$(wc -l <"$rows.rounds")" "$largest" "${gap:-?}" "${busy:-?}" \
    "$( [ "${gap:-0}" -gt 0 ] 2>/dev/null && echo ": ≤ ~$((1000 * largest / gap)) deliveries/s while backed up")"
}

# settle: waits until the sink has received nothing new for 2 s (at most 180 s), so that deliveries
# still on their way from a run that fell behind do not land in the next run.
settle() {
  local last=-1 now quiet=0 t0=$SECONDS
  while [ $((SECONDS - t0)) -lt 180 ]; do
    now=$(curl -fsS --max-time 5 "http://127.0.0.1:$SINK_PORT/stats" | sed -E 's/.*received=([0-9]+).*/\1/') || now=-2
    if [ "$now" = "$last" ]; then quiet=$((quiet + 1)); [ "$quiet" -ge 4 ] && break; else quiet=0; fi
    last=$now
    sleep 0.5
  done
  [ $((SECONDS - t0)) -le 3 ] || log "  (waited $((SECONDS - t0)) s for deliveries of that run still on their way)"
}

passes() {  # passes KEY: p99 within the limit, nothing missing, nothing refused
  awk -v p="${R[$1.p99_ms]}" -v lim="$P99_LIMIT_MS" -v m="${R[$1.missing]}" -v f="${R[$1.failed]}" -v a="${R[$1.arrived]}" \
    'BEGIN { exit !(p != "NaN" && p + 0 <= lim && m == 0 && f == 0 && a > 0) }'
}

GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || GIT_REV="$GIT_REV+uncommitted src changes"
echo
echo "Junction e2e benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  tree $GIT_REV; .NET $(dotnet --version)"
echo "  $(nproc --all) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
echo "  Junction on core $SERVER_CORE; E2eGen and E2eSink on core $LOAD_CORE; open loop, latency = sink arrival − due time"
echo "  steady $RATE ev/s for $DURATION s after $WARMUP s at $WARMUP_RATE ev/s; ramp $STEPS ev/s, $STEP_DURATION s a step, p99 limit $P99_LIMIT_MS ms"
echo

SUMMARY=()
for engine in $ENGINES; do
  case $engine in
    sqlite)
      storage="sqlite:$TMP/junction-$RUN_ID.db"
      title="SQLite (file $TMP/junction-$RUN_ID.db)" ;;
    postgres)
      source "$ROOT/scripts/pg.sh"
      log "starting PostgreSQL (scripts/pg.sh)"
      PG_STARTED=1
      pg_start
      storage="postgres:$JUNCTION_TEST_POSTGRES"
      title="PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (not pinned: shares both cores)" ;;
    *) die "unknown engine '$engine' (sqlite, postgres)" ;;
  esac
  echo
  echo "== Junction on $title"

  SINK_PORT=$(free_port)
  start_server "E2eSink" "$LOAD_CORE" "$SINK_PORT" "$LOGS/e2esink-$engine.log" \
    dotnet "$OUT/e2esink/E2eSink.dll" --urls "http://127.0.0.1:$SINK_PORT" --secret "$HOOK_SECRET"
  SINK_PID=$SERVER_PID

  cat >"$TMP/junction-$engine.yaml" <<EOF
storage: "$storage"
admin:
  tokens: ["$TOKEN"]
api_keys: ["$API_KEY"]
sources:
  app:
    provider: api
tags: [customer, "paid:course-pro"]
products:
  course-pro:
    match:
      - { source: app, sku: course-pro }
    tags_while_active: ["paid:course-pro"]
destinations:
  sink:
    type: webhook
    base_url: "http://127.0.0.1:$SINK_PORT/hook"
    credentials: { secret: "$HOOK_SECRET" }
    events: [order.paid]
    rate_limit: 10000
EOF
  J_PORT=$(free_port)
  quiet=()
  [ "$HTTP_LOGS" = 1 ] || quiet=(env "Logging__LogLevel__System.Net.Http.HttpClient=Warning")
  start_server "Junction ($engine)" "$SERVER_CORE" "$J_PORT" "$LOGS/junction-e2e-$engine.log" \
    "${quiet[@]}" dotnet "$OUT/junction/Junction.dll" serve --config "$TMP/junction-$engine.yaml" --urls "http://127.0.0.1:$J_PORT"
  J_PID=$SERVER_PID

  log "warm-up: $WARMUP_RATE ev/s for $WARMUP s"
  run_gen "$engine.warm" "$WARMUP_RATE" "$WARMUP"
  report "$engine.warm" "warm-up" "$WARMUP"
  [ "${R[$engine.warm.arrived]}" -gt 0 ] || die "nothing reached the sink during the warm-up (logs: $LOGS/junction-e2e-$engine.log, $LOGS/e2esink-$engine.log)"
  settle

  log "steady: $RATE ev/s for $DURATION s"
  run_gen "$engine.steady" "$RATE" "$DURATION"
  report "$engine.steady" "steady" "$DURATION"
  stages "$engine.steady"
  settle

  best="none"
  best_key=""
  for step in $STEPS; do
    log "ramp: $step ev/s for $STEP_DURATION s"
    k="$engine.step$step"
    run_gen "$k" "$step" "$STEP_DURATION"
    report "$k" "step $step" "$STEP_DURATION"
    stages "$k"
    if passes "$k"; then
      best=$step; best_key=$k
      settle
    else
      log "  step $step ev/s fails (p99 ${R[$k.p99_ms]} ms > $P99_LIMIT_MS ms, or missing/refused events): stopping the ramp"
      break
    fi
  done

  sink_stats=$(curl -fsS --max-time 5 "http://127.0.0.1:$SINK_PORT/stats" || echo "?")
  errors=$(grep -cE '(fail|crit|error):' "$LOGS/junction-e2e-$engine.log" || true)
  echo
  echo "  sink: $sink_stats"
  echo "  Junction log: $errors error lines ($LOGS/junction-e2e-$engine.log)"
  k=$engine.steady
  SUMMARY+=("$(printf '%-9s %6s ev/s  p50 %8s ms  p99 %8s ms  max %8s ms  missing %4s  | max rate with p99 ≤ %s ms: %s%s' \
    "$engine" "$RATE" "${R[$k.p50_ms]}" "${R[$k.p99_ms]}" "${R[$k.max_ms]}" "${R[$k.missing]}" "$P99_LIMIT_MS" "$best" \
    "$([ -n "$best_key" ] && echo " ev/s (p99 ${R[$best_key.p99_ms]} ms)")")")

  stop_process "$J_PID"
  stop_process "$SINK_PID"
  if [ "$engine" = postgres ]; then pg_stop; PG_STARTED=0; fi
done

echo
echo "== Summary (steady run; ramp steps of $STEP_DURATION s; latency = sink arrival − due time)"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo
log "done"
