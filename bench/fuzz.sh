#!/usr/bin/env bash
# Hostile input at volume: FUZZ_CASES (default 1 000 000) mutated, validly signed provider bodies posted
# to a Release `junction serve` on SQLite, then every stored one checked for a normalization outcome.
# It is the CI fuzz test (tests/Junction.Tests/Fuzz) built in Release and run with more cases; it prints
# the counts per outcome and junction's peak RSS, and exits non-zero when the run found a 5xx other
# than 503, a crash, a stuck event, a mapper exception or memory over the bound.
set -euo pipefail
cd "$(dirname "$0")/.."

cases=${FUZZ_CASES:-1000000}
seed=${FUZZ_SEED:-16}
limit=${FUZZ_TIMEOUT:-21600} # seconds for the whole run
out=bench/out/fuzz
mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "${BENCH_SKIP_BUILD:-}" != "1" ]; then
  # Own artifacts path, as intake.sh: the Release build never touches src/*/obj or tests/*/bin.
  dotnet build tests/Junction.Tests -c Release --artifacts-path "$out/build" -v quiet -nologo
fi
dll=$(find "$out/build/bin/Junction.Tests" -name Junction.Tests.dll -path '*release*' | head -1)
[ -n "$dll" ] || { echo "fuzz: no Release build of Junction.Tests under $out/build" >&2; exit 1; }

report="$PWD/$out/report-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "fuzz: $cases bodies, seed $seed, against $(dirname "$dll")/Junction.dll (Release), time limit ${limit}s"
status=0
JUNCTION_FUZZ_CASES=$cases JUNCTION_FUZZ_SEED=$seed JUNCTION_FUZZ_REPORT="$report" \
  timeout "$limit" dotnet test "$dll" --filter "FullyQualifiedName~Junction.Tests.Fuzz.FuzzTests" \
  --logger "console;verbosity=minimal" >"$out/test.log" 2>&1 || status=$?
if [ -f "$report" ]; then cat "$report"; else tail -40 "$out/test.log"; fi
[ $status -eq 0 ] && echo "fuzz: PASSED" || echo "fuzz: FAILED (exit $status; full output in $out/test.log)"
exit $status
