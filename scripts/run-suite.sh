#!/usr/bin/env bash
# The test suite itself: build (spawned processes run dist/), then vitest with any extra arguments.
# `npm test` runs it through scripts/test-services.sh, which brings up Redis, Chromium and the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build
exec npx vitest run "$@"
