#!/usr/bin/env bash
# Static checks: gofmt, go vet, shellcheck (scripts, the orb's scripts and bats tests), yamllint
# (the orb and .circleci), and the docs against the code they describe. Installs shellcheck,
# yamllint and jq (continuation-config.sh) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

scripts/ensure-tools.sh shellcheck yamllint jq

scripts/check-tracked-files.sh
scripts/check-layout.sh

unformatted=$(gofmt -l helper)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
"$GO" vet ./...
# README length and first screen, the orb and CLI references against orb/src, the exit codes and
# the CLI's environment variables, make targets, relative links, history vocabulary.
"$GO" test -count=1 ./helper/internal/devtools/doccheck
shellcheck scripts/*.sh scripts/tests/*.bats .ci/run
shellcheck -x orb/src/scripts/*.sh orb/src/tests/*.bats orb/src/tests/helpers.bash
yamllint --strict -c orb/.yamllint orb .circleci
echo "lint: ok"
