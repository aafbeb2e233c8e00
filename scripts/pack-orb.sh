#!/usr/bin/env bash
# pack-orb.sh VERSION DIST [OUT]: pack orb/src with the real circleci CLI and pin baton VERSION
# in it with the SHA-256 of every archive in DIST (made by scripts/build-release.sh, checked
# against its SHA256SUMS first) and of the binary in each, which the orb's installer uses to
# recognise a baton already installed. Writes OUT, default DIST/orb.yml: the orb to publish. The
# source carries placeholders only, so it never holds a stale version or checksum.
#
# The circleci CLI is built from the Go module proxy once (go install refuses its module) and
# kept in .cache/bin; set CIRCLECI_CLI_VERSION to use another release.
#   ORB_PACKER=own  packs with the project's own packer (baton-release pack), which
#                   scripts/test-orb.sh holds byte for byte to the CLI's output: make demo
#                   uses it so a first run need not build the CLI. Releases use the CLI.
#   PLATFORMS="…"   pins only these platforms' archives (make demo's one-platform release).
#   KEEP_PACKED=F   also writes the packed orb, before pinning, to F.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
CIRCLECI_CLI_VERSION=${CIRCLECI_CLI_VERSION:-v0.1.47860}

version=${1:?usage: scripts/pack-orb.sh VERSION DIST [OUT]}
version=${version#v}
dist=${2:?usage: scripts/pack-orb.sh VERSION DIST [OUT]}
out=${3:-$dist/orb.yml}
circleci=$PWD/.cache/bin/circleci-$CIRCLECI_CLI_VERSION

# build_circleci builds the circleci CLI at CIRCLECI_CLI_VERSION into $circleci.
build_circleci() {
  local scratch dir
  echo "building the circleci CLI $CIRCLECI_CLI_VERSION from the Go module proxy (once; kept in .cache/bin)" >&2
  scratch=$(mktemp -d)
  # Outside this module, so that nothing here is added to go.mod or go.sum.
  dir=$(cd "$scratch" && GO111MODULE=on GOFLAGS=-mod=mod "$GO" mod download -json \
    "github.com/CircleCI-Public/circleci-cli@$CIRCLECI_CLI_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
  rm -rf "$scratch"
  if [ -z "$dir" ]; then
    echo "pack-orb.sh: could not download github.com/CircleCI-Public/circleci-cli@$CIRCLECI_CLI_VERSION" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$circleci")"
  (cd "$dir" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 "$GO" build -trimpath -o "$circleci.tmp" .)
  mv -f "$circleci.tmp" "$circleci"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$GO" build -o "$work/baton-release" ./helper/cmd/baton-release
case "${ORB_PACKER:-circleci}" in
  circleci)
    [ -x "$circleci" ] || build_circleci
    # A private HOME: the CLI writes its settings there. No update check, no telemetry.
    HOME=$work CIRCLECI_CLI_SKIP_UPDATE_CHECK=true CIRCLECI_CLI_TELEMETRY_OPTOUT=1 \
      "$circleci" orb pack orb/src >"$work/packed.yml"
    ;;
  own) "$work/baton-release" pack orb/src >"$work/packed.yml" ;;
  *)
    echo "pack-orb.sh: ORB_PACKER=$ORB_PACKER: want circleci or own" >&2
    exit 2
    ;;
esac
[ -z "${KEEP_PACKED:-}" ] || cp "$work/packed.yml" "$KEEP_PACKED"
mkdir -p "$(dirname "$out")"
only=${PLATFORMS:-}
"$work/baton-release" fill-orb --version "$version" --dist "$dist" ${only:+--platforms "${only// /,}"} \
  --in "$work/packed.yml" --out "$out"
