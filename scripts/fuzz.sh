#!/usr/bin/env bash
# Run every fuzz target for $FUZZTIME each (default 20s). Their seed corpora run in `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}

for pkg in $("$GO" list ./helper/...); do
  for target in $("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== $pkg $target"
    "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
  done
done
