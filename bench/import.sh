#!/usr/bin/env bash
# Import benchmark (not a test): generates a generic CSV of BENCH_ROWS subscribers (email, name,
# consent with its time, one or two vocabulary tags, created_at) and runs `junction import --from csv`
# on a fresh SQLite store, then again on the same file (everything unchanged). Prints each run's
# summary line, rows/s and the import process's peak RSS (VmHWM), which should stay flat as rows grow.
#
#   bash bench/import.sh                 # 1 000 000 rows
#   BENCH_ROWS=50000 bash bench/import.sh
#
# Environment (all optional): BENCH_ROWS=1000000  BENCH_SKIP_BUILD=1 (reuse bench/out/junction)
#   BENCH_JUNCTION_DLL=path/to/Junction.dll (use that build instead; implies no build)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
OUT=$BENCH_DIR/out
LOGS=$OUT/logs
ROWS=${BENCH_ROWS:-1000000}
WORK=$OUT/import
mkdir -p "$LOGS"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { echo "import.sh: $*" >&2; }
die() { echo "import.sh: $*" >&2; exit 1; }

DLL=${BENCH_JUNCTION_DLL:-$OUT/junction/Junction.dll}
if [ -z "${BENCH_JUNCTION_DLL:-}" ] && [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building Release: src/Junction (into bench/out/junction)"
  if ! timeout 600 dotnet publish "$ROOT/src/Junction/Junction.csproj" -c Release -o "$OUT/junction" --artifacts-path "$OUT/artifacts" -nologo -v quiet >"$LOGS/build-junction.log" 2>&1; then
    cat "$LOGS/build-junction.log" >&2
    die "dotnet publish src/Junction"
  fi
fi
[ -f "$DLL" ] || die "no $DLL (run without BENCH_SKIP_BUILD=1)"

rm -rf "$WORK" && mkdir -p "$WORK"
cat >"$WORK/junction.yaml" <<YAML
storage: "sqlite:$WORK/junction.db"
admin:
  tokens: ["bench-import-admin-token-0123456789"]
tags: [customer, lead, vip]
sources:
  import:
    provider: import
YAML

log "generating $ROWS rows"
awk -v n="$ROWS" 'BEGIN {
  print "email,name,consent_email,consented_at,tags,created_at";
  split("customer;lead|lead|vip|customer", tags, "|");
  for (i = 1; i <= n; i++) {
    d = 1 + i % 28; m = 1 + int(i / 28) % 12;
    printf "person%d@example.com,Person %d,%s,2024-%02d-%02dT10:00:00Z,%s,2024-%02d-%02dT09:00:00Z\n",
      i, i, (i % 10 == 0 ? "false" : "true"), m, d, tags[1 + i % 4], m, d;
  }
}' >"$WORK/people.csv"
log "$(du -h "$WORK/people.csv" | cut -f1) of CSV"

run() {  # run LABEL: one import, its summary, rows/s and peak RSS
  local start end pid hwm=0 now
  start=$(date +%s.%N)
  dotnet "$DLL" import --config "$WORK/junction.yaml" --from csv "$WORK/people.csv" >"$LOGS/import-$1.out" 2>"$LOGS/import-$1.err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    now=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${now:-0}" -gt "$hwm" ] && hwm=$now
    sleep 0.5
  done
  wait "$pid" || die "import $1 failed: $(tail -5 "$LOGS/import-$1.err")"
  end=$(date +%s.%N)
  awk -v l="$1" -v s="$start" -v e="$end" -v n="$ROWS" -v h="$hwm" -v sum="$(cat "$LOGS/import-$1.out")" \
    'BEGIN { printf "%-7s %s; %d rows in %.1f s: %.0f rows/s (read, store, normalize, project); peak RSS %.0f MiB\n", l, sum, n, e - s, n / (e - s), h / 1024 }'
}
run first
run again
