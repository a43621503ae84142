#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the browser test (tests/Junction.Tests/Capture/
# SnippetBrowserTests.cs drives it through Playwright; Playwright downloads no browser).
#   source scripts/chromium.sh && chromium_install   -> exports JUNCTION_CHROMIUM
# Installs from Debian's packages as root, or through sudo when available.
# (sourced: leaves the caller's shell options alone)

chromium_find() {
  local p
  for p in "${JUNCTION_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

chromium_install() {
  local found
  if ! found=$(chromium_find); then
    local run=()
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        run=(sudo -n)
      else
        echo "chromium.sh: chromium is not installed and this user cannot apt-get install it" >&2
        return 1
      fi
    fi
    echo "chromium.sh: installing chromium from Debian's packages..." >&2
    "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    found=$(chromium_find) || { echo "chromium.sh: chromium still not found after installing" >&2; return 1; }
  fi
  export JUNCTION_CHROMIUM=$found
  echo "chromium.sh: $("$found" --version 2>/dev/null | head -1) at $found" >&2
}
