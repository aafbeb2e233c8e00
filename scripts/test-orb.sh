#!/usr/bin/env bash
# test-orb.sh [DIR]: the orb's checks outside Go: the bats unit tests of its scripts, then a
# release of baton built twice (the two must be byte-identical) and the orb packed with the
# real circleci CLI and pinned to it, all checked by baton-release verify; and the project's own
# packer (make demo's) giving the same bytes as the CLI. The release stays
# in DIR (default .cache/orb-test) for the Go tests of helper/internal/devtools/orbrun, which expand and
# run every example against it; scripts/test.sh points them there. Installs bats and its libraries when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${BATON_ORB_RELEASE_VERSION:-1.0.0-e2e} # the major version the examples show
dir=${1:-.cache/orb-test}

scripts/ensure-tools.sh bats dash # dash: the scripts' check for bash runs under a POSIX sh
for lib in bats-support bats-assert; do
  [ -f "/usr/lib/bats/$lib/load.bash" ] || scripts/ensure-tools.sh "$lib"
done

echo "== bats: orb/src/tests"
bats orb/src/tests

echo "== release $version, built twice"
rm -rf "$dir"
scripts/build-release.sh "$version" "$dir/dist" >/dev/null
scripts/build-release.sh "$version" "$dir/again" >/dev/null
if ! cmp "$dir/dist/SHA256SUMS" "$dir/again/SHA256SUMS"; then
  echo "test-orb.sh: two builds of the same tree differ:" >&2
  diff "$dir/dist/SHA256SUMS" "$dir/again/SHA256SUMS" >&2 || true
  exit 1
fi
rm -rf "$dir/again"
cat "$dir/dist/SHA256SUMS"

echo "== circleci orb pack, pinned to $version"
KEEP_PACKED="$dir/packed-circleci.yml" scripts/pack-orb.sh "$version" "$dir/dist" "$dir/orb.yml"

echo "== the project's own packer (make demo's), against circleci orb pack"
KEEP_PACKED="$dir/packed-own.yml" ORB_PACKER=own scripts/pack-orb.sh "$version" "$dir/dist" "$dir/orb-own.yml"
for pair in "packed-circleci.yml packed-own.yml" "orb.yml orb-own.yml"; do
  read -r real own <<<"$pair"
  if ! cmp "$dir/$real" "$dir/$own"; then
    echo "test-orb.sh: baton-release pack and circleci orb pack differ ($dir/$own vs $real):" >&2
    diff "$dir/$real" "$dir/$own" | head -20 >&2 || true
    exit 1
  fi
done
rm "$dir/packed-circleci.yml" "$dir/packed-own.yml" "$dir/orb-own.yml"
echo "the same bytes, packed and pinned"

echo "== baton-release verify: sums, pins, schema, build settings, version"
"${GO:-go}" run ./helper/cmd/baton-release verify --version "$version" --dist "$dir/dist" --orb "$dir/orb.yml"
