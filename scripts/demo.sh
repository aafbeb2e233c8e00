#!/usr/bin/env bash
# make demo: a deploy triggered after an image push, through the released orb, as CircleCI would run it. Builds baton,
# the simulator and the demo for this machine, a release of baton for this platform only
# (scripts/build-release.sh), the orb packed by the project's own packer and pinned to it
# (scripts/pack-orb.sh; scripts/test-orb.sh holds that packer to the circleci CLI), then runs
# the orb's deploy-after-image-push example with orbrun: install → verified → triggered (link)
# → waiting → result, against the CircleCI API simulator, and once more with a tampered
# archive. Every build has make build's settings (CGO_ENABLED=0, GOFLAGS from the Makefile), so
# Go compiles the standard library once.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
BIN=${BIN:-bin}
version=1.0.0 # the major version the orb's examples show

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A toolchain download (go.mod's go line) would start here: its chatter goes to the log too.
if ! platform=$("$GO" env GOOS GOARCH 2>"$work/build.log" | paste -sd_ -); then
  cat "$work/build.log" >&2
  exit 1
fi

printf '\033[1m== Building baton, the simulator and the demo for %s, and releasing baton %s for it: about %s\033[0m\n' \
  "${platform/_//}" "$version" "a minute on two cores the first time, 10 s after"
if ! {
  "$GO" build -ldflags="${LDFLAGS:-}" -o "$work/bin/" ./helper/cmd/baton ./helper/cmd/circleci-sim \
    ./helper/internal/devtools/orbrun/demo &&
    mkdir -p "$BIN" && cp "$work/bin/baton" "$work/bin/circleci-sim" "$BIN/" &&
    PLATFORMS=$platform scripts/build-release.sh "$version" "$work/dist" &&
    PLATFORMS=$platform ORB_PACKER=own scripts/pack-orb.sh "$version" "$work/dist" "$work/orb.yml"
} >>"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  exit 1
fi
cat "$work/dist/SHA256SUMS"
"$work/bin/demo" --release "$work" --version "$version"
