#!/usr/bin/env bash
# Fails when git tracks a compiled binary or any file over 1 MiB: releases are built by the
# pipeline, and a binary in the tree is one nobody can review or reproduce.
set -euo pipefail
cd "$(dirname "$0")/.."

limit=$((1024 * 1024))
status=0
while IFS= read -r -d '' file; do
  [ -f "$file" ] || continue # deleted in the work tree, not yet committed
  size=$(wc -c <"$file")
  if [ "$size" -gt "$limit" ]; then
    echo "tracked file over 1 MiB: $file ($size bytes); build outputs belong in .gitignore" >&2
    status=1
    continue
  fi
  # ELF, Mach-O (both byte orders, 32/64-bit, universal), PE and WebAssembly start with these.
  magic=$(head -c 4 "$file" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    7f454c46 | feedface | feedfacf | cefaedfe | cffaedfe | cafebabe | 0061736d | 4d5a*)
      echo "tracked compiled binary: $file; build outputs belong in .gitignore" >&2
      status=1
      ;;
  esac
done < <(git ls-files -z)
exit "$status"
