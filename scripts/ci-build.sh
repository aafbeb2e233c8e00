#!/usr/bin/env bash
# ci-build.sh DIST: the pipeline's build job. Builds this pipeline's release of baton into DIST
# (scripts/build-release.sh), packs the orb pinned to it (scripts/pack-orb.sh, DIST/orb.yml) and
# verifies both (baton-release verify). The version is the release tag's (CIRCLE_TAG=v1.4.0
# builds 1.4.0), else MAJOR.0.0-dev.$CIRCLE_PIPELINE_NUMBER, MAJOR being the one the orb's
# examples show (baton-ci/baton@1.0): a release and its examples must agree on it (RC011).
#
# Each workflow has its own workspace, so the continued workflows build again rather than
# receive the setup stage's build; the build is reproducible, so the bytes are the same:
#   PACKED_ORB_SHA256=SUM  fail unless DIST/orb.yml has this SHA-256 (the orb the setup stage
#                          packed and the pipeline was continued with). The orb pins every
#                          archive's SHA-256, so equal orbs mean equal archives.
#   ORB_SOURCE_TAR=FILE    also write FILE as orb-tools/pack leaves orb_source.tar.gz: a tarball
#                          of a directory holding orb.yml, which orb-tools/publish unpacks.
#   PLATFORMS="…"          only these platforms (the pipeline's own test builds linux_amd64).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

dist=${1:?usage: scripts/ci-build.sh DIST}
version=${CIRCLE_TAG:-}
version=${version#v}
if [ -z "$version" ]; then
  major=$(sed -n 's/.*baton-ci\/baton@\([0-9][0-9]*\)\..*/\1/p' orb/src/examples/*.yml | sort -u)
  if [ "$(wc -l <<<"$major")" -ne 1 ] || [ -z "$major" ]; then
    echo "ci-build.sh: the orb's examples do not agree on one major version: ${major//$'\n'/ }" >&2
    exit 1
  fi
  version=$major.0.0-dev.${CIRCLE_PIPELINE_NUMBER:?ci-build.sh: set CIRCLE_PIPELINE_NUMBER or CIRCLE_TAG}
fi

echo "== baton $version"
scripts/build-release.sh "$version" "$dist"
scripts/pack-orb.sh "$version" "$dist"
only=${PLATFORMS:-} # PLATFORMS="linux_amd64 …" builds only those, as build-release.sh does
"$GO" run ./helper/cmd/baton-release verify --version "$version" --dist "$dist" --orb "$dist/orb.yml" \
  ${only:+--platforms "${only// /,}"}

if [ -n "${PACKED_ORB_SHA256:-}" ]; then
  sum=$(sha256sum "$dist/orb.yml" | cut -d' ' -f1)
  if [ "$sum" != "$PACKED_ORB_SHA256" ]; then
    echo "ci-build.sh: this rebuild is not the release the pipeline was continued with:" >&2
    echo "  $dist/orb.yml has SHA-256 $sum; the setup stage packed $PACKED_ORB_SHA256" >&2
    echo "  (the archives or the orb are not reproducible: compare the two builds' SHA256SUMS artifacts)" >&2
    exit 1
  fi
  echo "the orb and the archives it pins are the ones the setup stage built (SHA-256 $sum)"
fi

if [ -n "${ORB_SOURCE_TAR:-}" ]; then
  orb_dir=$(mktemp -d)
  trap 'rm -rf "$orb_dir"' EXIT
  cp "$dist/orb.yml" "$orb_dir/orb.yml"
  tar -czf "$ORB_SOURCE_TAR" -C "$orb_dir" .
  echo "wrote $ORB_SOURCE_TAR for orb-tools/publish"
fi
