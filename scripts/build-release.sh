#!/usr/bin/env bash
# build-release.sh VERSION [DIST]: cross-compile baton for every platform the orb installs on
# and write reproducible archives, baton_VERSION_OS_ARCH.tar.gz (.zip for Windows) holding the
# binary, LICENSE and THIRD_PARTY_NOTICES (the licenses of what is linked into it), and their
# SHA256SUMS to DIST (default dist/), which should be empty or absent: SHA256SUMS lists exactly
# the archives, so `cd DIST && sha256sum --strict -c SHA256SUMS` checks them all. Two builds of
# the same tree give the same bytes. PLATFORMS="linux_amd64 …" builds only those (make demo).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

version=${1:?usage: scripts/build-release.sh VERSION [DIST]}
version=${version#v}
dist=${2:-dist}
read -r -a platforms <<<"${PLATFORMS:-linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64}"
# HTTP/1.1 only, as `make build`: see TAGS in the Makefile. baton-release verify checks it.
tags=nethttpomithttp2
# Inlining only where it pays, as `make build`: see scripts/gcflags.sh.
read -r -a gcflags <<<"$(scripts/gcflags.sh)"

case "$version" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *)
    echo "build-release.sh: VERSION '$version' is not a semantic version like 1.4.0" >&2
    exit 2
    ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for platform in "${platforms[@]}"; do
  os=${platform%_*}
  arch=${platform#*_}
  exe=baton
  [ "$os" = windows ] && exe=baton.exe
  echo "building baton $version for $os/$arch" >&2
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -buildvcs=false -tags="$tags" "${gcflags[@]}" \
    -ldflags "-buildid= -s -w -X main.version=$version" \
    -o "$work/$platform/$exe" ./helper/cmd/baton
done

mkdir -p "$dist"
"$GO" build -o "$work/baton-release" ./helper/cmd/baton-release
only=${platforms[*]}
"$work/baton-release" archive --version "$version" --dist "$dist" --license LICENSE \
  --goroot "$("$GO" env GOROOT)" --modcache "$("$GO" env GOMODCACHE)" ${PLATFORMS:+--platforms "${only// /,}"} "$work"
