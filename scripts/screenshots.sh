#!/usr/bin/env bash
# Regenerates the dashboard screenshots in docs/screenshots/ from the browser test that walks every
# page (tests/Junction.Tests/Dashboard/DashboardBrowserTests.cs) in Debian's chromium.
#   bash scripts/screenshots.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/chromium.sh
source "$ROOT/scripts/chromium.sh"
chromium_install
JUNCTION_SCREENSHOTS="$ROOT/docs/screenshots" dotnet test "$ROOT/tests/Junction.Tests" --filter "FullyQualifiedName~DashboardBrowserTests"
ls -1 "$ROOT/docs/screenshots"
