#!/usr/bin/env bash
# Rebuild benchmark (not a test): writes a synthetic canonical log of BENCH_EVENTS events about
# BENCH_PEOPLE people (purchases, partial and full refunds, opt-ins, unsubscribes, webinars, one
# merge per 20 people, 10% logged out of order) with bench/RebuildGen, then times
# `junction rebuild` twice per engine:
#   run 1: nothing projected yet — the rebuild projects the whole log (every row written);
#   run 2: the state from run 1 exists — digest before, full recompute and replace, digest after.
# Prints events/s for each run and whether the digests match.
#
#   bash bench/rebuild.sh
#
# Environment (all optional):
#   BENCH_EVENTS=1000000  BENCH_PEOPLE=100000  BENCH_ENGINES="sqlite postgres"  BENCH_SKIP_BUILD=1
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
OUT=$BENCH_DIR/out
LOGS=$OUT/logs
EVENTS=${BENCH_EVENTS:-1000000}
PEOPLE=${BENCH_PEOPLE:-100000}
ENGINES=${BENCH_ENGINES:-"sqlite postgres"}
mkdir -p "$LOGS"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { echo "rebuild.sh: $*" >&2; }
die() { echo "rebuild.sh: $*" >&2; exit 1; }

publish() {  # publish PROJECT NAME
  if ! timeout 600 dotnet publish "$1" -c Release -o "$OUT/$2" --artifacts-path "$OUT/artifacts" -nologo -v quiet >"$LOGS/build-$2.log" 2>&1; then
    cat "$LOGS/build-$2.log" >&2
    die "dotnet publish $1"
  fi
}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building Release: src/Junction, bench/RebuildGen (into bench/out/)"
  publish "$ROOT/src/Junction/Junction.csproj" junction
  publish "$BENCH_DIR/RebuildGen/RebuildGen.csproj" rebuildgen
fi

PG_STARTED=0
cleanup() { if [ "$PG_STARTED" = 1 ]; then pg_stop || true; fi; }
trap cleanup EXIT

declare -A R
for engine in $ENGINES; do
  work=$(mktemp -d /tmp/junction-rebuild-bench.XXXXXX)
  case "$engine" in
    sqlite) storage="sqlite:$work/junction.db" ;;
    postgres)
      # shellcheck source=../scripts/pg.sh
      source "$ROOT/scripts/pg.sh"
      pg_start
      PG_STARTED=1
      storage="postgres:$JUNCTION_TEST_POSTGRES" ;;
    *) die "unknown engine '$engine' (sqlite, postgres)" ;;
  esac
  cat >"$work/junction.yaml" <<YAML
storage: "$storage"
admin:
  tokens: ["bench-admin-token-0123456789"]
sources:
  stripe: {provider: stripe, secrets: ["whsec_bench"]}
  kit: {provider: kit, secrets: ["kit_bench_secret"]}
  zoom: {provider: zoom, secrets: ["zoom_bench_secret"]}
tags: ["customer", "paid:course-pro", "paid:coaching"]
products:
  course-pro:
    match: [{source: stripe, sku: COURSE-PRO}]
    tags_while_active: ["paid:course-pro", "customer"]
  coaching:
    match: [{source: stripe, sku: COACHING}]
    tags_while_active: ["paid:coaching"]
    revoke_on: any_refund
    revoke_after: 7d
YAML
  log "$engine: generating $EVENTS events about $PEOPLE people"
  (cd "$work" && dotnet "$OUT/rebuildgen/RebuildGen.dll" "$storage" "$EVENTS" "$PEOPLE") 2>"$LOGS/rebuildgen-$engine.log" >/dev/null \
    || { cat "$LOGS/rebuildgen-$engine.log" >&2; die "RebuildGen failed"; }
  for run in 1 2; do
    log "$engine: junction rebuild, run $run"
    start=$(date +%s.%N)
    (cd "$work" && dotnet "$OUT/junction/Junction.dll" rebuild --config junction.yaml) >"$LOGS/rebuild-$engine-$run.out" 2>"$LOGS/rebuild-$engine-$run.err" \
      || { code=$?; [ $code = 1 ] || { cat "$LOGS/rebuild-$engine-$run.err" >&2; die "junction rebuild exited $code"; }; }
    end=$(date +%s.%N)
    cat "$LOGS/rebuild-$engine-$run.out" | sed "s/^/  $engine run $run: /" >&2
    R[$engine.$run.line]=$(grep '^rebuilt ' "$LOGS/rebuild-$engine-$run.out")
    R[$engine.$run.phases]=$(grep '^phases: ' "$LOGS/rebuild-$engine-$run.out")
    R[$engine.$run.wall]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    R[$engine.$run.identical]=$(grep -o 'identical: .*' "$LOGS/rebuild-$engine-$run.out" || echo "n/a (nothing projected before)")
  done
  if [ "$engine" = postgres ]; then pg_stop; PG_STARTED=0; fi
  rm -rf "$work"
done

echo
echo "junction rebuild: $EVENTS events, $PEOPLE people, $(nproc) cores"
for engine in $ENGINES; do
  for run in 1 2; do
    rate=$(echo "${R[$engine.$run.line]}" | grep -o '[0-9]* events/s')
    printf '%-9s run %s: %s (command wall time %.1f s incl. start-up); %s; %s\n' "$engine" "$run" "$rate" "${R[$engine.$run.wall]}" \
      "${R[$engine.$run.phases]}" "${R[$engine.$run.identical]}"
  done
done
