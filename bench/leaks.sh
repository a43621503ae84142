#!/usr/bin/env bash
# Revenue leak benchmark (not a test): a leaking creator stack, simulated. bench/Leaks starts fakes
# of Stripe (API + webhook sender), Kit and Teachable on loopback and the real `junction serve`
# (Release build) against them, drives BENCH_PEOPLE customer journeys (opt-in, purchase, 10% of
# buyers refund) with faults injected at known rates, runs one audit with heal, and prints per audit
# point and per fault kind what leaked, what the audit found, what it healed and what it cost; then
# the audit's read cost with BENCH_SCALE people in the tools. A PASS/FAIL line per target.
# See bench/README.md ("leaks.sh").
#
#   bash bench/leaks.sh
#
# Environment (all optional):
#   BENCH_PEOPLE=2000          journeys of the faulted run
#   BENCH_SEED=12              the generator's seed (journeys, faults, who is hit)
#   BENCH_SCALE="2000 20000"   people seeded into the tools for the read-cost pass ("" skips it)
#   BENCH_CONCURRENCY=8        journeys in flight at once
#   BENCH_SKIP_BUILD=1         reuse bench/out/ from a previous run
#
# Exit 0 unless something broke (a build, a server that does not start); a target not met prints FAIL.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
OUT=$BENCH_DIR/out
LOGS=$OUT/logs
PEOPLE=${BENCH_PEOPLE:-2000}
SEED=${BENCH_SEED:-12}
SCALE=${BENCH_SCALE-"2000 20000"}
CONCURRENCY=${BENCH_CONCURRENCY:-8}

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[%s] FAILED: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

mkdir -p "$OUT" "$LOGS"
WORK=$(mktemp -d /tmp/junction-leaks.XXXXXX)
GEN_PID=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Leaks stops its own `junction serve` children; this only makes sure nothing outlives the script.
  if [ -n "$GEN_PID" ]; then kill "$GEN_PID" 2>/dev/null || true; wait "$GEN_PID" 2>/dev/null || true; fi
  cp "$WORK"/*.log "$LOGS/" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

publish() {  # publish PROJECT NAME
  if ! timeout 900 dotnet publish "$1" -c Release -o "$OUT/$2" --artifacts-path "$OUT/artifacts" \
        -nologo -v quiet >"$LOGS/build-$2.log" 2>&1; then
    cat "$LOGS/build-$2.log" >&2
    die "dotnet publish $1"
  fi
}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building Release: src/Junction, bench/Leaks (into bench/out/)"
  publish "$ROOT/src/Junction/Junction.csproj" junction
  publish "$BENCH_DIR/Leaks/Leaks.csproj" leaks
fi
for f in junction/Junction.dll leaks/Leaks.dll; do
  [ -f "$OUT/$f" ] || die "bench/out/$f is missing (run without BENCH_SKIP_BUILD)"
done

GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || GIT_REV="$GIT_REV+uncommitted src changes"
echo
echo "Junction revenue leak benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  tree $GIT_REV; .NET $(dotnet --version); $(nproc --all) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
echo "  $PEOPLE journeys, seed $SEED; read-cost pass: ${SCALE:-skipped}; store: SQLite (a file per run in $WORK)"
echo "  faults: 20% of Stripe webhooks sent twice, 20% of journeys reordered (newest first), 5% of Stripe webhooks never sent"
echo "  (only in GET /v1/events), 10% of people get a destination failure (45% a 500, 45% a 429 with Retry-After: 1,"
echo "  10% a timeout: the API hangs 35 s for every write in the next 200 ms, once per destination), 2% of leads,"
echo "  of buyers and of refunded buyers a silent drop (200/201/204 and nothing applied), 1% tampering after the sync (paid tag or enrollment removed by hand)"
echo

# Bounded: the run stops by itself (each wait inside has its own limit); this is the outer bound.
timeout 3600 dotnet "$OUT/leaks/Leaks.dll" --junction "$OUT/junction/Junction.dll" --work "$WORK" \
  --people "$PEOPLE" --seed "$SEED" --scale "$SCALE" --concurrency "$CONCURRENCY" &
GEN_PID=$!
status=0
wait "$GEN_PID" || status=$?
GEN_PID=""
[ "$status" = 0 ] || die "bench/Leaks exited with $status (Junction logs: $LOGS/junction-*.log)"
echo
log "done (Junction logs: $LOGS/junction-*.log)"
