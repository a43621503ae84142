#!/usr/bin/env bash
# A cluster under faults, run longer than CI does (issue 16). Runs the same scenario as the CI test
# tests/Junction.Tests/Executable/ClusterChaosTests.cs: three `junction serve` processes on one
# throw-away PostgreSQL of its own, load round-robin to all three, Kit and a webhook receiver faked
# with injected faults; nodes killed with SIGKILL and restarted, PostgreSQL stopped/restarted under
# them, Kit paused and resumed. Same assertions; prints the counts (events, kills, restarts, faults
# injected, duplicates observed, lost = 0). See bench/README.md ("chaos.sh").
#
#   bash bench/chaos.sh
#
# Environment (all optional):
#   CHAOS_LOAD_SECONDS=180   how long load is posted (CI: 40)
#   CHAOS_KILLS=3            nodes killed with SIGKILL and started again during the load (CI: 1)
#   CHAOS_DB_RESTARTS=3      PostgreSQL stops/restarts during the load (CI: 2; every second one is pg_ctl restart -m fast)
#   CHAOS_DOWN_SECONDS=60    how long each fake destination is down (CI: 10)
#   CHAOS_WORKERS=4          journeys posted at once (CI: 3)
#   CHAOS_JOURNEYS_PER_SECOND=15  the pace of new journeys (CI: 15; the webhook drains 10 a second)
#   CHAOS_SKIP_BUILD=1       reuse the test build
#
# Exit status: the test's (0 when every assertion held).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPORT=$(mktemp /tmp/junction-chaos-report.XXXXXX)
trap 'rm -f "$REPORT"' EXIT

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export JUNCTION_CHAOS_LOAD_SECONDS=${CHAOS_LOAD_SECONDS:-180}
export JUNCTION_CHAOS_KILLS=${CHAOS_KILLS:-3}
export JUNCTION_CHAOS_DB_RESTARTS=${CHAOS_DB_RESTARTS:-3}
export JUNCTION_CHAOS_DOWN_SECONDS=${CHAOS_DOWN_SECONDS:-60}
export JUNCTION_CHAOS_WORKERS=${CHAOS_WORKERS:-4}
export JUNCTION_CHAOS_JOURNEYS_PER_SECOND=${CHAOS_JOURNEYS_PER_SECOND:-15}
export JUNCTION_CHAOS_REPORT=$REPORT

cd "$ROOT"
if [ "${CHAOS_SKIP_BUILD:-}" != "1" ]; then dotnet build tests/Junction.Tests -v q >/dev/null; fi
status=0
dotnet test tests/Junction.Tests --no-build --filter "FullyQualifiedName~ClusterChaosTests" --logger "console;verbosity=normal" || status=$?
if [ -s "$REPORT" ]; then
  cat "$REPORT"
else
  echo "chaos: no report: the run failed before its counts (see the test output above)"
fi
exit $status
