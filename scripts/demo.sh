#!/usr/bin/env bash
# make demo: the seed's case through the released orb, as CircleCI would run it. Builds a
# release with scripts/build-release.sh, packs the orb with scripts/pack-orb.sh (the real
# circleci CLI), then runs the orb's deploy-after-image-push example with orbrun: install →
# verified → triggered (link) → waiting → result, against the CircleCI API simulator, and
# once more with a tampered archive.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
version=1.0.0 # the major version the orb's examples show

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf '\033[1m== Releasing baton %s and packing the orb\033[0m\n' "$version"
if ! { scripts/build-release.sh "$version" "$work/dist" &&
  scripts/pack-orb.sh "$version" "$work/dist" "$work/orb.yml"; } >"$work/release.log" 2>&1; then
  cat "$work/release.log" >&2
  exit 1
fi
cat "$work/dist/SHA256SUMS"
"$GO" run ./helper/internal/orbrun/demo --release "$work" --version "$version"
