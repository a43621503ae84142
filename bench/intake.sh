#!/usr/bin/env bash
# Intake benchmark (not a test): Junction's webhook intake against a null endpoint under the same
# wrk load, on SQLite and on PostgreSQL. See bench/README.md for how to read the output.
#
#   bash bench/intake.sh
#
# Environment (all optional):
#   BENCH_DURATION=10        seconds per measured run
#   BENCH_WARMUP=15          seconds of warm-up load per server process
#   BENCH_ENGINES="sqlite postgres"
#   BENCH_CONNECTIONS=64     wrk connections
#   BENCH_NULL_POOL=300000   requests in the null endpoint's pool (it wraps: the null endpoint stores nothing)
#   BENCH_POOL_MIN=200000    smallest pool of unique events for a Junction run
#   BENCH_SKIP_BUILD=1       reuse bench/out/ from a previous run
#   BENCH_FORGERY=N          during each measured Junction run, also flood it with forged webhooks (a
#                            wrong signing secret) from a second wrk with N connections on the load core;
#                            the report shows how many forgeries were refused beside the accepted rate
#
# Layout: the server under test runs on core 1, wrk on core 0 (PostgreSQL is not pinned: it shares
# both cores). Every process this script starts is stopped on exit; logs stay in bench/out/logs/.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
OUT=$BENCH_DIR/out
LOGS=$OUT/logs

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-15}
ENGINES=${BENCH_ENGINES:-"sqlite postgres"}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
NULL_POOL=${BENCH_NULL_POOL:-300000}
POOL_MIN=${BENCH_POOL_MIN:-200000}
POOL_MAX=1500000          # ~2 GB of wrk memory
WRK_THREADS=1             # one core for wrk: -t1 beats -t2 there, and -t2 would start its threads staggered
SERVER_CORE=1
LOAD_CORE=0
SECRET=whsec_bench_secret_0123456789
TOKEN=bench-admin-token
SOURCE=stripe-bench
HOOK_PATH=/v1/hooks/$SOURCE
RUN_ID=$(printf '%04x' $((RANDOM % 65536)))   # in every event id: ids never repeat across runs

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[%s] FAILED: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- cleanup
PIDS=()
LABELS=""   # "pid=name …": our idle servers, named in the CPU census
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

# Drops a pid from PIDS (it has ended).
forget_pid() {
  local i rest=()
  for i in "${PIDS[@]}"; do [ "$i" = "$1" ] || rest+=("$i"); done
  PIDS=("${rest[@]}")
}
# Stops one process this script started, and forgets it.
stop_process() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# ---------------------------------------------------------------- /proc readings
# Reads /proc/PID/stat: STAT_TICKS = utime+stime (clock ticks), STAT_THREADS; both 0 once it is gone.
# (Sets variables rather than printing: polling loops then fork nothing.)
read_stat() {
  local f
  STAT_TICKS=0
  STAT_THREADS=0
  { read -r -a f < "/proc/$1/stat"; } 2>/dev/null || return 0
  STAT_TICKS=$((f[13] + f[14]))
  STAT_THREADS=${f[19]}
}
proc_ticks() { read_stat "$1"; echo "$STAT_TICKS"; }
# utime+stime of every PostgreSQL process, in clock ticks.
pg_ticks() {
  local sum=0 pid
  [ "$PG_STARTED" = 1 ] || { echo 0; return; }
  for pid in $(pgrep -u postgres 2>/dev/null || true); do read_stat "$pid"; sum=$((sum + STAT_TICKS)); done
  echo "$sum"
}
# census FILE: one line "pid ticks comm" for every process on the machine.
census() {
  local out=$1 f line comm
  : >"$out"
  for f in /proc/[0-9]*/stat; do
    { read -r line < "$f"; } 2>/dev/null || continue
    comm=${line#*\(}
    comm=${comm%\)*}
    # Fields after "(comm) ": state ppid … utime is the 12th, stime the 13th.
    set -- ${line##*\) }
    printf '%s %s %s\n' "${f//[^0-9]/}" $((${12} + ${13})) "${comm// /_}" >>"$out"
  done
}
# "busy total steal" ticks of one core, from /proc/stat.
core_ticks() {
  local name rest
  while read -r name rest; do
    if [ "$name" = "cpu$1" ]; then
      # user nice system idle iowait irq softirq steal
      set -- $rest
      echo "$(($1 + $2 + $3 + $6 + $7 + $8)) $(($1 + $2 + $3 + $4 + $5 + $6 + $7 + $8)) $8"
      return
    fi
  done < /proc/stat
}
HZ=$(getconf CLK_TCK)

# (Not `read -t`: a signal trap that exits during `read -t` crashes bash 5.2.)
nap() { sleep "$1"; }

# ---------------------------------------------------------------- preparation
[ "$(nproc --all)" -ge 2 ] || die "this benchmark pins the server and wrk to two different cores; this machine has $(nproc --all)"
mkdir -p "$OUT" "$LOGS"
TMP=$(mktemp -d /tmp/junction-bench.XXXXXX)

if ! command -v wrk >/dev/null; then
  log "installing wrk from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null || { apt-get update -qq >/dev/null; apt-get install -y -qq curl >/dev/null; }

publish() {  # publish PROJECT NAME
  local name=$2
  if ! timeout 600 dotnet publish "$1" -c Release -o "$OUT/$name" --artifacts-path "$OUT/artifacts" \
        -nologo -v quiet >"$LOGS/build-$name.log" 2>&1; then
    cat "$LOGS/build-$name.log" >&2
    die "dotnet publish $1"
  fi
}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building Release: src/Junction, bench/NullEndpoint, bench/NaiveEndpoint, bench/Gen (into bench/out/)"
  publish "$ROOT/src/Junction/Junction.csproj" junction
  publish "$BENCH_DIR/NullEndpoint/NullEndpoint.csproj" null
  publish "$BENCH_DIR/NaiveEndpoint/NaiveEndpoint.csproj" naive
  publish "$BENCH_DIR/Gen/Gen.csproj" gen
fi
for f in junction/Junction.dll null/NullEndpoint.dll naive/NaiveEndpoint.dll gen/Gen.dll; do
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

# start_server NAME PORT LOGFILE COMMAND… : starts it on SERVER_CORE, waits for /healthz; sets SERVER_PID.
start_server() {
  local name=$1 port=$2 logfile=$3 i
  shift 3
  env -u JUNCTION_STORAGE taskset -c "$SERVER_CORE" "$@" >"$logfile" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  LABELS="$LABELS $SERVER_PID=${name// /-}"
  for i in $(seq 300); do
    if curl -fsS --max-time 1 -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
      log "$name up on 127.0.0.1:$port (pid $SERVER_PID, core $SERVER_CORE)"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 "$logfile" >&2; die "$name exited during start-up (log: $logfile)"; }
    sleep 0.1
  done
  tail -n 30 "$logfile" >&2
  die "$name did not answer /healthz within 30 s (log: $logfile)"
}

# gen_pool PREFIX COUNT TAG PORT: signs COUNT unique events now.
gen_pool() {
  rm -f "$1".*
  timeout 300 dotnet "$OUT/gen/Gen.dll" pool --out "$1" --count "$2" --shards "$WRK_THREADS" --tag "$3" \
    --secret "$SECRET" --host "127.0.0.1:$4" --path "$HOOK_PATH" >"$TMP/gen.out" \
    || die "Gen pool failed"
}

# ---------------------------------------------------------------- one wrk run
declare -A R   # results: R[KEY.field]

# run_load KEY PORT POOL SECONDS SERVER_PID : wrk on LOAD_CORE. CPU is measured from the moment
# wrk's worker thread starts (it has loaded its pool by then) to the moment it is joined: the server
# and wrk from their /proc/PID/stat, PostgreSQL and everything else from a census of /proc, the
# cores from /proc/stat.
run_load() {
  local key=$1 port=$2 pool=$3 seconds=$4 spid=$5
  local out=$TMP/wrk.out wpid deadline line kv polls=0 rss=0 k v _
  taskset -c "$LOAD_CORE" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 10s \
    -s "$BENCH_DIR/intake.lua" "http://127.0.0.1:$port$HOOK_PATH" -- "$pool" >"$out" 2>&1 &
  wpid=$!
  PIDS+=("$wpid")
  deadline=$((SECONDS + 180 + seconds))
  # Loading: only wrk's main thread exists.
  while read_stat "$wpid"; [ "$STAT_THREADS" -eq 1 ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "wrk still loading its pool after 180 s"
    nap 0.02
  done
  local t0=$EPOCHREALTIME s0 w0 c0 c1
  read_stat "$spid"; s0=$STAT_TICKS
  read_stat "$wpid"; w0=$STAT_TICKS
  c0=$(core_ticks "$LOAD_CORE"); c1=$(core_ticks "$SERVER_CORE")
  census "$TMP/census.0"
  local w1=$w0 t1 s1 d0 d1
  # Running: until the worker thread has been joined (or wrk is gone).
  while read_stat "$wpid"; [ "$STAT_THREADS" -gt 1 ]; do
    w1=$STAT_TICKS
    if [ $((polls++ % 10)) = 0 ]; then
      while read -r k v _; do [ "$k" = VmHWM: ] && rss=$v; done < "/proc/$wpid/status" 2>/dev/null || true
    fi
    [ "$SECONDS" -lt "$deadline" ] || { kill "$wpid"; die "wrk did not stop"; }
    nap 0.05
  done
  t1=$EPOCHREALTIME
  read_stat "$spid"; s1=$STAT_TICKS
  d0=$(core_ticks "$LOAD_CORE"); d1=$(core_ticks "$SERVER_CORE")
  census "$TMP/census.1"
  wait "$wpid" || { cat "$out" >&2; die "wrk failed"; }
  forget_pid "$wpid"
  line=$(grep '^RESULT ' "$out") || { cat "$out" >&2; die "wrk printed no RESULT line"; }
  for kv in ${line#RESULT }; do R["$key.${kv%%=*}"]=${kv#*=}; done
  # Percentages of one core over the measured wall time.
  read -r "R[$key.rps]" "R[$key.srv_cpu]" "R[$key.wrk_cpu]" "R[$key.pg_cpu]" "R[$key.script_cpu]" "R[$key.other]" \
    "R[$key.unattributed]" "R[$key.core0]" "R[$key.core1]" "R[$key.steal]" "R[$key.others]" < <(
    awk -v req="${R[$key.requests]}" -v us="${R[$key.duration_us]}" -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
        -v s="$((s1 - s0))" -v w="$((w1 - w0))" -v c0="$c0" -v d0="$d0" -v c1="$c1" -v d1="$d1" \
        -v spid="$spid" -v wpid="$wpid" -v self="$$" -v labels="$LABELS" '
      BEGIN { n = split(labels, l, " "); for (i = 1; i <= n; i++) { split(l[i], kv, "="); label[kv[1]] = kv[2] } }
      FNR == NR { before[$1] = $2; next }
      {
        d = $2 - ($1 in before ? before[$1] : 0)
        if ($1 == spid || $1 == wpid) next
        if ($3 == "postgres") { pg += d; next }
        if ($1 == self) { me += d; next }
        if (d > 0) { by[$1 in label ? label[$1] : $3] += d; other += d }
      }
      END {
        wall = t1 - t0; k = 100 / hz / wall
        split(c0, a, " "); split(d0, b, " "); split(c1, c, " "); split(d1, e, " ")
        core0 = 100 * (b[1] - a[1]) / (b[2] - a[2]); core1 = 100 * (e[1] - c[1]) / (e[2] - c[2])
        steal = 100 * ((b[3] - a[3]) + (e[3] - c[3])) / ((b[2] - a[2]) + (e[2] - c[2]))
        un = core0 + core1 - (s + w + pg + me + other) * k; if (un < 0) un = 0
        # The three busiest other processes, by name.
        top = ""
        for (i = 0; i < 3; i++) {
          best = ""; for (n in by) if (best == "" || by[n] > by[best]) best = n
          if (best == "" || by[best] * k < 1) break
          top = top (top == "" ? "" : ",") best ":" sprintf("%.0f%%", by[best] * k); delete by[best]
        }
        printf "%.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.1f %s\n", req / (us / 1e6), s * k, w * k, pg * k,
          me * k, other * k, un, core0, core1, steal, (top == "" ? "-" : top)
      }' "$TMP/census.0" "$TMP/census.1")
  R["$key.wrk_rss_mb"]=$((rss / 1024))
}

ms() { awk -v us="$1" 'BEGIN { printf (us < 10000 ? "%.2f ms" : "%.1f ms"), us / 1000 }'; }

# report KEY LABEL SERVERNAME
report() {
  local k=$1 label=$2 name=$3
  printf '  %-13s %8s events/s   p50 %-9s p99 %-9s non-2xx %s%s\n' "$label" "${R[$k.rps]}" \
    "$(ms "${R[$k.p50_us]}")" "$(ms "${R[$k.p99_us]}")" "${R[$k.non200]}" \
    "$( [ "${R[$k.non200]}" = 0 ] || echo " (statuses ${R[$k.statuses]%,})")"
  local errors=$((R[$k.connect_err] + R[$k.read_err] + R[$k.write_err] + R[$k.timeouts]))
  [ "$errors" = 0 ] || printf '  %-13s socket errors: connect %s read %s write %s timeout %s\n' "" \
    "${R[$k.connect_err]}" "${R[$k.read_err]}" "${R[$k.write_err]}" "${R[$k.timeouts]}"
  printf '  %-13s %s used %s%% of its core (core %s), wrk %s%% of core %s%s; cores busy: %s%% / %s%%\n' "" \
    "$name" "${R[$k.srv_cpu]}" "$SERVER_CORE" "${R[$k.wrk_cpu]}" "$LOAD_CORE" \
    "$( [ "$PG_STARTED" = 0 ] || echo ", PostgreSQL ${R[$k.pg_cpu]}% of a core (unpinned)")" \
    "${R[$k.core0]}" "${R[$k.core1]}"
  printf '  %-13s unpinned: this script %s%%, other processes %s%% (%s), kernel/unattributed %s%% of a core\n' "" \
    "${R[$k.script_cpu]}" "${R[$k.other]}" "${R[$k.others]}" "${R[$k.unattributed]}"
  if [ "${R[$k.other]}" -ge 10 ] || awk -v s="${R[$k.steal]}" 'BEGIN { exit !(s >= 2) }'; then
    printf '  %-13s NOISE: other processes used %s%% of a core, hypervisor steal %s%%: this run is disturbed\n' "" \
      "${R[$k.other]}" "${R[$k.steal]}"
  fi
}

# Waits (at most 90 s) until the server, and PostgreSQL if running, have been idle for 3 s: Junction
# goes on normalizing what it stored, and the next run shares its core. Sets SETTLED (yes/no) and
# SETTLE: seconds from the call until the quiet began.
settle() {
  local spid=$1 start=$EPOCHREALTIME a b pa pb i quiet=0 quiet_since=$EPOCHREALTIME window
  SETTLED=no
  for i in $(seq 180); do
    window=$EPOCHREALTIME
    a=$(proc_ticks "$spid"); pa=$(pg_ticks)
    nap 0.5
    b=$(proc_ticks "$spid"); pb=$(pg_ticks)
    # Quiet: at most 5% of a core over half a second, for six half-seconds in a row.
    if [ $((b - a)) -le $((HZ / 40)) ] && [ $((pb - pa)) -le $((HZ / 40)) ]; then
      [ "$quiet" -gt 0 ] || quiet_since=$window
      quiet=$((quiet + 1))
      if [ "$quiet" -ge 6 ]; then SETTLED=yes; break; fi
    else
      quiet=0
    fi
  done
  SETTLE=$(awk -v a="$start" -v b="$quiet_since" 'BEGIN { printf "%.1f", (b > a ? b - a : 0) }')
}

# Counts stored events since the last count of this Junction instance; sets STORED_TOTAL.
count_stored() {
  local port=$1 line
  line=$(timeout 300 dotnet "$OUT/gen/Gen.dll" count --url "http://127.0.0.1:$port" --source "$SOURCE" \
      --token "$TOKEN" ${COUNT_AFTER:+--after "$COUNT_AFTER"} --base "$COUNT_BASE") || die "counting stored events failed"
  # stored=N resume=C resume_base=B
  STORED_TOTAL=$(sed -E 's/.*stored=([0-9]+).*/\1/' <<<"$line")
  COUNT_AFTER=$(sed -E 's/.*resume=([^ ]*) .*/\1/' <<<"$line")
  COUNT_BASE=$(sed -E 's/.*resume_base=([0-9]+).*/\1/' <<<"$line")
}

# Junction's most recent rejections, when a run had non-200 answers.
show_rejections() {
  echo "  most recent rejections (GET /v1/rejections):"
  curl -fsS --max-time 10 -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$1/v1/rejections?source=$SOURCE&limit=3" | cut -c1-600 | sed 's/^/    /' || true
  echo
}

# ---------------------------------------------------------------- header
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || GIT_REV="$GIT_REV+uncommitted src changes"
echo
echo "Junction intake benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  tree $GIT_REV; .NET $(dotnet --version); $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
echo "  $(nproc --all) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
echo "  load: wrk -t$WRK_THREADS -c$CONNECTIONS on core $LOAD_CORE; server under test on core $SERVER_CORE; $DURATION s a run after $WARMUP s of warm-up"
echo "  events: payment_intent.succeeded, 1024-byte bodies, unique evt_ ids, Stripe-signed with the source's secret"
echo

# ---------------------------------------------------------------- null endpoint
NULL_PORT=$(free_port)
start_server "null endpoint" "$NULL_PORT" "$LOGS/null.log" dotnet "$OUT/null/NullEndpoint.dll" --urls "http://127.0.0.1:$NULL_PORT"
NULL_PID=$SERVER_PID
# One pool for every null run: the null endpoint neither checks signatures nor remembers ids, so its
# pool may wrap around.
gen_pool "$TMP/null" "$NULL_POOL" "${RUN_ID}N" "$NULL_PORT"
log "warm-up: null endpoint, $((2 * WARMUP)) s"
run_load nullwarm "$NULL_PORT" "$TMP/null" $((2 * WARMUP)) "$NULL_PID"
log "  warm-up: ${R[nullwarm.rps]} events/s"

# ---------------------------------------------------------------- naive durable endpoint
# The second baseline: appends every body to SQLite (WAL, synchronous=FULL) through one batching
# writer and answers once its batch committed. It neither checks signatures nor deduplicates, so it
# replays the null endpoint's pool.
NAIVE_PORT=$(free_port)
start_server "naive endpoint" "$NAIVE_PORT" "$LOGS/naive.log" dotnet "$OUT/naive/NaiveEndpoint.dll" \
  --urls "http://127.0.0.1:$NAIVE_PORT" --db "$TMP/naive.db"
NAIVE_PID=$SERVER_PID
log "warm-up: naive endpoint, $WARMUP s"
run_load naivewarm "$NAIVE_PORT" "$TMP/null" "$WARMUP" "$NAIVE_PID"
settle "$NAIVE_PID"
log "  warm-up: ${R[naivewarm.rps]} events/s, ${R[naivewarm.non200]} non-200"

# ---------------------------------------------------------------- engines
SUMMARY=()
null_cpu_sum=0
null_runs=0
for engine in $ENGINES; do
  case $engine in
    sqlite)
      storage="sqlite:$TMP/junction.db"
      PG_NOTE=""
      title="SQLite (file $TMP/junction.db)" ;;
    postgres)
      # shellcheck source=../scripts/pg.sh
      source "$ROOT/scripts/pg.sh"
      log "starting PostgreSQL (scripts/pg.sh)"
      PG_STARTED=1
      pg_start
      storage="postgres:$JUNCTION_TEST_POSTGRES"
      PG_NOTE=" and PostgreSQL"
      title="PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (not pinned: shares both cores)" ;;
    *) die "unknown engine '$engine' (sqlite, postgres)" ;;
  esac

  echo
  echo "== Junction on $title"
  cat >"$TMP/junction-$engine.yaml" <<EOF
storage: "$storage"
admin:
  tokens: ["$TOKEN"]
sources:
  $SOURCE:
    provider: stripe
    secrets: ["$SECRET"]
    tolerance_seconds: 300
EOF
  J_PORT=$(free_port)
  start_server "Junction ($engine)" "$J_PORT" "$LOGS/junction-$engine.log" \
    dotnet "$OUT/junction/Junction.dll" serve --config "$TMP/junction-$engine.yaml" --urls "http://127.0.0.1:$J_PORT"
  J_PID=$SERVER_PID
  COUNT_AFTER=""
  COUNT_BASE=0
  count_stored "$J_PORT"
  stored_before=$STORED_TOTAL

  gen_pool "$TMP/j" "$POOL_MIN" "${RUN_ID}${engine:0:1}w" "$J_PORT"
  log "warm-up: Junction, $WARMUP s"
  run_load "$engine.warm" "$J_PORT" "$TMP/j" "$WARMUP" "$J_PID"
  settle "$J_PID"
  count_stored "$J_PORT"
  log "  warm-up: ${R[$engine.warm.rps]} events/s, ${R[$engine.warm.non200]} non-200, stored $((STORED_TOTAL - stored_before)) for ${R[$engine.warm.ok200]} 200s; idle again after ${SETTLE} s (settled: $SETTLED)"
  [ "${R[$engine.warm.ok200]}" -gt 0 ] || { report "$engine.warm" "warm-up" Junction; show_rejections "$J_PORT"; die "Junction answered no 200 during the warm-up (log: $LOGS/junction-$engine.log)"; }
  stored_before=$STORED_TOTAL
  best_rate=${R[$engine.warm.rps]}

  ok_total=0; stored_total=0; inflight_total=0; dup_total=0; wrap_total=0
  for i in 1 2; do
    rm -f "$TMP"/j.*
    log "run null #$i ($DURATION s)"
    run_load "$engine.null$i" "$NULL_PORT" "$TMP/null" "$DURATION" "$NULL_PID"
    settle "$NULL_PID"
    report "$engine.null$i" "null #$i" "null endpoint"
    null_cpu_sum=$((null_cpu_sum + R[$engine.null$i.srv_cpu])); null_runs=$((null_runs + 1))

    log "run naive #$i ($DURATION s)"
    run_load "$engine.naive$i" "$NAIVE_PORT" "$TMP/null" "$DURATION" "$NAIVE_PID"
    settle "$NAIVE_PID"
    report "$engine.naive$i" "naive #$i" "naive endpoint"

    # Unique events for three times the best rate seen so far, signed just before the run.
    pool=$(awk -v r="$best_rate" -v d="$DURATION" -v lo="$POOL_MIN" -v hi="$POOL_MAX" \
      'BEGIN { n = int(r * d * 3 / 1000 + 1) * 1000; if (n < lo) n = lo; if (n > hi) n = hi; print n }')
    gen_pool "$TMP/j" "$pool" "${RUN_ID}${engine:0:1}$i" "$J_PORT"
    log "run Junction #$i ($DURATION s, pool of $pool unique events)"
    k=$engine.junction$i
    FORGER=""
    if [ "${BENCH_FORGERY:-0}" -gt 0 ]; then
      # Same events signed with a secret Junction does not have: every one is refused (401) and logged.
      timeout 300 dotnet "$OUT/gen/Gen.dll" pool --out "$TMP/forged" --count 20000 --shards 1 --tag "${RUN_ID}F$i" \
        --secret whsec_forged_not_the_sources --host "127.0.0.1:$J_PORT" --path "$HOOK_PATH" >/dev/null || die "Gen forged pool failed"
      # Longer than the run (the measured wrk first loads its pool); stopped when the run ends.
      taskset -c "$LOAD_CORE" wrk -t1 -c"$BENCH_FORGERY" -d"$((DURATION + 60))s" --timeout 10s -s "$BENCH_DIR/intake.lua" \
        "http://127.0.0.1:$J_PORT$HOOK_PATH" -- "$TMP/forged" >"$TMP/forger.out" 2>&1 &
      FORGER=$!
      PIDS+=("$FORGER")
    fi
    run_load "$k" "$J_PORT" "$TMP/j" "$DURATION" "$J_PID"
    if [ -n "$FORGER" ]; then
      kill -INT "$FORGER" 2>/dev/null || true   # wrk prints its results on SIGINT
      wait "$FORGER" || true
      forget_pid "$FORGER"
      fline=$(grep '^RESULT ' "$TMP/forger.out" || echo "")
      forged=$(sed -E 's/.*non200=([0-9]+).*/\1/' <<<"$fline")
      forged_ok=$(sed -E 's/.*ok200=([0-9]+).*/\1/' <<<"$fline")
      printf '  %-13s forgery flood (%s connections): %s refused, %s accepted (must be 0)\n' "" "$BENCH_FORGERY" "${forged:-?}" "${forged_ok:-?}"
    fi
    settle "$J_PID"
    count_stored "$J_PORT"
    stored=$((STORED_TOTAL - stored_before)); stored_before=$STORED_TOTAL
    R["$k.stored"]=$stored
    R["$k.settle"]=$SETTLE
    report "$k" "Junction #$i" Junction
    inflight=$((stored - R[$k.ok200]))
    if [ "$stored" = "${R[$k.ok200]}" ]; then verdict="equal"
    elif [ "$inflight" -gt 0 ] && [ "$inflight" -le "$CONNECTIONS" ]; then
      verdict="every 200 is stored, +$inflight committed for requests in flight when wrk stopped"
    else verdict="MISMATCH"; fi
    printf '  %-13s stored %s events for %s 200s: %s\n' "" "$stored" "${R[$k.ok200]}" "$verdict"
    printf '  %-13s duplicates answered %s, pool wraps %s (pool %s, wrk RSS %s MB); %s\n' "" \
      "${R[$k.duplicates]}" "${R[$k.wraps]}" "${R[$k.pool]}" "${R[$k.wrk_rss_mb]}" \
      "$( [ "$SETTLED" = yes ] && echo "Junction${PG_NOTE} idle again $SETTLE s after the load stopped" \
          || echo "Junction${PG_NOTE} STILL BUSY $SETTLE s after the load stopped")"
    [ "${R[$k.non200]}" = 0 ] || show_rejections "$J_PORT"
    [ "${R[$k.rps]}" -le "$best_rate" ] || best_rate=${R[$k.rps]}
    ok_total=$((ok_total + R[$k.ok200])); stored_total=$((stored_total + stored))
    dup_total=$((dup_total + R[$k.duplicates])); wrap_total=$((wrap_total + R[$k.wraps]))
  done

  null_mean=$(( (R[$engine.null1.rps] + R[$engine.null2.rps]) / 2 ))
  naive_mean=$(( (R[$engine.naive1.rps] + R[$engine.naive2.rps]) / 2 ))
  j_mean=$(( (R[$engine.junction1.rps] + R[$engine.junction2.rps]) / 2 ))
  ratio=$(awk -v j="$j_mean" -v n="$null_mean" 'BEGIN { printf "%.3f (%.1f%%)", j / n, 100 * j / n }')
  naive_ratio=$(awk -v j="$naive_mean" -v n="$null_mean" 'BEGIN { printf "%.3f", j / n }')
  j_naive=$(awk -v j="$j_mean" -v n="$naive_mean" 'BEGIN { printf "%.3f", j / n }')
  inflight_total=$((stored_total - ok_total))
  if [ "$stored_total" = "$ok_total" ]; then check="yes, exactly"
  elif [ "$inflight_total" -gt 0 ] && [ "$inflight_total" -le $((2 * CONNECTIONS)) ] && [ "$dup_total" = 0 ] && [ "$wrap_total" = 0 ]; then
    check="yes: every 200 is stored; $inflight_total more were committed for requests in flight when wrk stopped (≤ $CONNECTIONS a run, their answers never read)"
  else check="NO (stored $stored_total, 200s $ok_total, duplicates $dup_total, wraps $wrap_total)"; fi
  errors=$(grep -cE '(fail|crit|error):' "$LOGS/junction-$engine.log" || true)

  echo
  echo "  Junction/null ($engine): $ratio   mean $j_mean vs $null_mean events/s"
  echo "  naive/null: $naive_ratio (naive mean $naive_mean events/s, p99 $(ms $(( (R[$engine.naive1.p99_us] + R[$engine.naive2.p99_us]) / 2 )))); Junction/naive: $j_naive"
  echo "  stored events == 200s: $check"
  echo "  Junction log: $errors error lines ($LOGS/junction-$engine.log)"
  SUMMARY+=("$(printf '%-9s Junction %6s ev/s (p50 %s, p99 %s, %s%% CPU) vs null %6s ev/s: ratio %s; vs naive %6s ev/s: %s; stored == 200s: %s' \
    "$engine" "$j_mean" "$(ms $(( (R[$engine.junction1.p50_us] + R[$engine.junction2.p50_us]) / 2 )))" \
    "$(ms $(( (R[$engine.junction1.p99_us] + R[$engine.junction2.p99_us]) / 2 )))" \
    "$(( (R[$engine.junction1.srv_cpu] + R[$engine.junction2.srv_cpu]) / 2 ))" "$null_mean" "$ratio" \
    "$naive_mean" "$j_naive" "${check%%:*}")")

  stop_process "$J_PID"
  if [ "$engine" = postgres ]; then pg_stop; PG_STARTED=0; fi
done

echo
echo "== Summary (means of two runs each; the null endpoint used $((null_cpu_sum / null_runs))% of its core on average: wrk saturates it)"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo
log "done"
