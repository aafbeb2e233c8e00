#!/usr/bin/env bash
# test-orb.sh [DIR]: the orb's checks outside Go: the bats unit tests of its scripts, then a
# release of baton checked with `sha256sum --strict -c SHA256SUMS` and built again (the two must
# be byte-identical), and the orb packed with the real circleci CLI and pinned to it, all
# checked by baton-release verify; and the project's own packer (make demo's) giving the same
# bytes as the CLI. The release stays in DIR (default .cache/orb-test) for the Go tests of
# helper/internal/devtools/orbrun, which expand and run every example against it;
# scripts/test.sh points them there. Installs bats and its libraries when they are missing.
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

echo "== release $version: SHA256SUMS checks as a user checks a download"
rm -rf "$dir"
scripts/build-release.sh "$version" "$dir/dist" >/dev/null
cat "$dir/dist/SHA256SUMS"
(cd "$dir/dist" && sha256sum --strict -c SHA256SUMS)

# Built again from a copy of the tree at another path, with another umask and time zone: every
# file must be byte-identical (archive entry times, owners, modes and order are fixed, not taken
# from the build). The Go build cache would hand back the same binaries, so this machine's
# platform is also built once more with an empty cache, compiling everything anew.
host=$("${GO:-go}" env GOOS)_$("${GO:-go}" env GOARCH)
echo "== release $version built again elsewhere, and for $host with an empty build cache"
elsewhere=$(mktemp -d)
trap 'rm -rf "$elsewhere"' EXIT
git ls-files -z --cached --others --exclude-standard | tar --null -cf - -T - | tar -xmf - -C "$elsewhere"
(cd "$elsewhere" && umask 077 && TZ=Pacific/Chatham scripts/build-release.sh "$version" again >/dev/null)
(cd "$elsewhere" && GOCACHE=$elsewhere/.gocache PLATFORMS=$host scripts/build-release.sh "$version" fresh >/dev/null)
for f in "$dir"/dist/* "$elsewhere"/fresh/baton_*; do
  again=$elsewhere/again/${f##*/}
  if ! cmp "$f" "$again"; then
    echo "test-orb.sh: two builds of the same tree differ: ${f##*/} (see scripts/build-release.sh)" >&2
    exit 1
  fi
done
rm -rf "$elsewhere"
echo "every file the same, byte for byte"

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
