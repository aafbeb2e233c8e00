#!/usr/bin/env bash
# The tree shows what ships: every package directly under helper/internal is one baton's binary
# is built from, and helper/internal/devtools (the simulator, the orb runner, test and demo
# support) holds none of them.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

module=$("$GO" list -m)
shipped=$("$GO" list -deps ./helper/cmd/baton | grep "^$module/helper/internal/" || true)
status=0
for pkg in $shipped; do
  case "$pkg" in
    "$module"/helper/internal/devtools/*)
      echo "baton imports $pkg: move it out of helper/internal/devtools, which holds only what does not ship" >&2
      status=1
      ;;
  esac
done
for dir in helper/internal/*/; do
  name=$(basename "$dir")
  [ "$name" = devtools ] && continue
  if ! grep -qx "$module/helper/internal/$name" <<<"$shipped"; then
    echo "helper/internal/$name is not part of baton's binary: move it under helper/internal/devtools" >&2
    status=1
  fi
done
exit "$status"
