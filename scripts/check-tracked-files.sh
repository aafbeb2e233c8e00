#!/usr/bin/env bash
# Fails when git tracks a binary file (a compiled program, an archive, any other binary data)
# or any file over 1 MiB: releases are built by the pipeline, and a binary in the tree is one
# nobody can review or reproduce. It reads what git holds, the index (what the next commit
# will contain), not the work tree, so a binary staged and then deleted from disk still counts.
# "Binary" is git's own rule (a NUL byte in the first 8000 bytes, as `git diff` decides); the
# message names the format from the file's first bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

limit=$((1024 * 1024))
status=0

# kind_of PATH names the format of PATH's staged content from its magic number.
kind_of() {
  local magic
  magic=$(git cat-file blob ":$1" 2>/dev/null | head -c 8 | od -An -tx1 | tr -d ' \n' || true)
  case "$magic" in
    7f454c46*) echo "an ELF executable or library" ;;
    feedface* | feedfacf* | cefaedfe* | cffaedfe*) echo "a Mach-O executable" ;;
    cafebabe* | cafebabf* | bebafeca*) echo "a universal Mach-O executable or a Java class" ;;
    4d5a*) echo "a Windows (PE) executable" ;;
    0061736d*) echo "a WebAssembly module" ;;
    213c617263683e0a*) echo "an ar archive (a static library or .deb)" ;;
    1f8b*) echo "a gzip archive" ;;
    504b0304* | 504b0506* | 504b0708*) echo "a zip archive" ;;
    fd377a585a00*) echo "an xz archive" ;;
    28b52ffd*) echo "a zstd archive" ;;
    425a68*) echo "a bzip2 archive" ;;
    377abcaf271c*) echo "a 7-Zip archive" ;;
    *) echo "binary data" ;;
  esac
}

# Sizes of the staged blobs, in one pass: "SIZE PATH". Submodules (commits) have no size here.
while read -r size path; do
  case "$size" in '' | *[!0-9]*) continue ;; esac
  if [ "$size" -gt "$limit" ]; then
    echo "tracked file over 1 MiB: $path ($size bytes); build outputs belong in .gitignore" >&2
    status=1
  fi
done < <(git ls-files -s -z | tr '\0' '\n' | sed -n 's/^[0-7]* \([0-9a-f]*\) 0\t/\1 /p' |
  git cat-file --batch-check='%(objectsize) %(rest)')

# Staged files git itself treats as binary: numstat shows them as "-	-	PATH".
empty_tree=$(git hash-object -t tree /dev/null)
while IFS= read -r -d '' record; do
  case "$record" in
    -$'\t'-$'\t'*)
      path=${record#-$'\t'-$'\t'}
      echo "tracked binary file: $path, $(kind_of "$path"); build outputs and archives belong in .gitignore, not in git" >&2
      status=1
      ;;
  esac
done < <(git diff --cached --numstat -z --no-renames "$empty_tree")
exit "$status"
