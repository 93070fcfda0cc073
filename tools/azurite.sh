#!/usr/bin/env bash
# Installs the pinned Azurite (Azure Storage emulator) into .azurite/, which git ignores.
# The tests start it themselves (tests/conftest.py), always with --disableTelemetry.
set -euo pipefail
cd "$(dirname "$0")/.."

AZURITE_VERSION=3.35.0  # the last release that runs on Node 20 (3.36 needs Node 21+)
BIN=.azurite/node_modules/.bin/azurite-blob

if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: Azurite not installed; its tests will skip (or fail with REQUIRE_SERVICES=1)" >&2
  exit 0
fi
if [ -x "$BIN" ] && [ "$(cat .azurite/.version 2>/dev/null)" = "$AZURITE_VERSION" ]; then
  exit 0
fi
mkdir -p .azurite
npm install --no-audit --no-fund --loglevel=error --prefix .azurite "azurite@$AZURITE_VERSION"
echo "$AZURITE_VERSION" > .azurite/.version
