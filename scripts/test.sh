#!/usr/bin/env bash
# The whole suite, as CI runs it: lint, then every Go test with the race detector (fuzz seeds
# included). Needs only Go and root for apt-get; installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

if [ ! -f ../shared/circleci-openapi/openapi.json ]; then
  echo "note: ../shared/circleci-openapi/openapi.json is absent: the OpenAPI conformance tests will be skipped" >&2
fi
scripts/lint.sh
CGO_ENABLED=1 "$GO" test -race -count=1 ./...
