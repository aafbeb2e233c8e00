#!/usr/bin/env bash
# Static checks: gofmt, go vet, shellcheck. Installs shellcheck when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

scripts/ensure-tools.sh shellcheck

unformatted=$(gofmt -l helper)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
"$GO" vet ./...
shellcheck scripts/*.sh .ci/run
echo "lint: ok"
