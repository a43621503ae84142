#!/usr/bin/env bash
# Runs every test: unit, store (real SQLite file and real PostgreSQL server), HTTP over loopback,
# the crash test against the real junction process, and the landing-page snippet in a real browser.
# Starts its own PostgreSQL (installing it from Debian's packages if missing) and stops it
# afterwards; installs Debian's chromium for the browser test when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/pg.sh
source scripts/chromium.sh
# Without chromium the browser test skips, except under CI=true, where a missing browser fails the run.
chromium_install || [ "${CI:-}" != "true" ]
trap pg_stop EXIT
pg_start

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results=$(mktemp -d /tmp/junction-test-results.XXXXXX)
status=0
dotnet test Junction.slnx -c "${CONFIGURATION:-Debug}" --logger "trx;LogFileName=results.trx" \
  --results-directory "$results" "$@" || status=$?

# One plain summary line, counted from the TRX results.
if ls "$results"/*.trx >/dev/null 2>&1; then
  python3 - "$results" <<'PY' || true
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(c.get("passed", 0)); failed += int(c.get("failed", 0)) + int(c.get("error", 0))
    skipped += int(c.get("notExecuted", 0))
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
fi
rm -rf "$results"
exit $status
