#!/usr/bin/env bash
# Dashboard benchmark (not a test): every page's answer time on SQLite at real sizes.
#   1. bench/RebuildGen writes BENCH_EVENTS canonical events about BENCH_PEOPLE people (purchases,
#      refunds, opt-ins, webinars, merges), ending near today so the periods hold orders;
#   2. `junction rebuild` projects them (people, identifiers, the dashboard's read model);
#   3. DashboardBench seeds what a live store also has: 30 days of hourly intake and delivery
#      counters and 3 deliveries per person (1 in 200 dead);
#   4. `junction serve` starts on it; DashboardBench signs in and GETs every page BENCH_RUNS times
#      after 2 warm-ups, printing median, p90 and max, and PASS when every answer is under 200 ms.
#
#   bash bench/dashboard.sh
#
# Environment (all optional): BENCH_EVENTS=1000000 BENCH_PEOPLE=100000 BENCH_RUNS=10 BENCH_SKIP_BUILD=1
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
OUT=$BENCH_DIR/out
LOGS=$OUT/logs
EVENTS=${BENCH_EVENTS:-1000000}
PEOPLE=${BENCH_PEOPLE:-100000}
RUNS=${BENCH_RUNS:-10}
TOKEN="bench-dashboard-token-0123456789"
mkdir -p "$LOGS"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { echo "dashboard.sh: $*" >&2; }
die() { echo "dashboard.sh: $*" >&2; exit 1; }
publish() {  # publish PROJECT NAME
  timeout 600 dotnet publish "$1" -c Release -o "$OUT/$2" --artifacts-path "$OUT/artifacts" -nologo -v quiet >"$LOGS/build-$2.log" 2>&1 \
    || { cat "$LOGS/build-$2.log" >&2; die "dotnet publish $1"; }
}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building Release: src/Junction, bench/RebuildGen, bench/DashboardBench (into bench/out/)"
  publish "$ROOT/src/Junction/Junction.csproj" junction
  publish "$BENCH_DIR/RebuildGen/RebuildGen.csproj" rebuildgen
  publish "$BENCH_DIR/DashboardBench/DashboardBench.csproj" dashboardbench
fi

work=$(mktemp -d /tmp/junction-dashboard-bench.XXXXXX)
SERVE_PID=
cleanup() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 5097)
cat >"$work/junction.yaml" <<YAML
storage: "sqlite:$work/junction.db"
admin: { tokens: ["$TOKEN"] }
sources:
  stripe: {provider: stripe, secrets: ["whsec_bench"]}
  kit: {provider: kit, secrets: ["kit_bench_secret"]}
  zoom: {provider: zoom, secrets: ["zoom_bench_secret"]}
tags: ["customer", "paid:course-pro", "paid:coaching"]
products:
  course-pro: { match: [{source: stripe, sku: COURSE-PRO}], tags_while_active: ["paid:course-pro", "customer"] }
  coaching: { match: [{source: stripe, sku: COACHING}], tags_while_active: ["paid:coaching"], revoke_on: any_refund, revoke_after: 7d }
destinations:
  kit-main: { type: kit, base_url: "http://127.0.0.1:9", credentials: { api_key: "kit_bench" }, tags: { "paid:course-pro": "Paid: Course Pro", customer: "Customer" } }
  teachable-main: { type: teachable, base_url: "http://127.0.0.1:9", credentials: { api_key: "teachable_bench" }, courses: { course-pro: "101" } }
alerts: { evaluate_every: 1h }
YAML
start=$(date -u -d '-300 days' +%Y-%m-%dT00:00:00Z)
log "generating $EVENTS events about $PEOPLE people from $start"
(cd "$work" && dotnet "$OUT/rebuildgen/RebuildGen.dll" "sqlite:$work/junction.db" "$EVENTS" "$PEOPLE" "$start") >/dev/null 2>"$LOGS/dashboard-gen.log" \
  || { cat "$LOGS/dashboard-gen.log" >&2; die "RebuildGen failed"; }
log "junction rebuild (projects the log and the read model)"
(cd "$work" && dotnet "$OUT/junction/Junction.dll" rebuild --config junction.yaml) >"$LOGS/dashboard-rebuild.out" 2>"$LOGS/dashboard-rebuild.err" \
  || { code=$?; [ $code = 1 ] || { cat "$LOGS/dashboard-rebuild.err" >&2; die "rebuild exited $code"; }; }
grep '^rebuilt ' "$LOGS/dashboard-rebuild.out" >&2 || true
dotnet "$OUT/dashboardbench/DashboardBench.dll" seed "$work/junction.db"
log "starting junction serve on 127.0.0.1:$port"
(cd "$work" && exec dotnet "$OUT/junction/Junction.dll" serve --config junction.yaml --urls "http://127.0.0.1:$port") >"$LOGS/dashboard-serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || die "serve did not start (see $LOGS/dashboard-serve.log)"
echo
echo "dashboard pages: $EVENTS events, $PEOPLE people, SQLite, $(nproc) cores"
dotnet "$OUT/dashboardbench/DashboardBench.dll" time "http://127.0.0.1:$port" "$TOKEN" "$RUNS"
