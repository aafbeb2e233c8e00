#!/usr/bin/env bash
# github-release.sh TAG DIST: publish DIST as the GitHub release TAG (vX.Y.Z): the archives and
# SHA256SUMS made by scripts/build-release.sh, with CHANGELOG.md's "## [X.Y.Z] - DATE" section
# as the notes. baton-release github-release (helper/cmd/baton-release) does the work, so this
# needs Go. It checks the tag, $GITHUB_TOKEN, DIST against SHA256SUMS and against the version
# and sums DIST/orb.yml pins, and the notes, before it sends anything; then it creates a
# draft, uploads every file, checks what GitHub holds and only then publishes the draft. When
# a step fails it deletes the draft, or says exactly what is left and what to do.
#   GITHUB_TOKEN       required (the github-release context); read from the environment only
#   DRY_RUN=1          check everything and say what would be sent; send nothing, no token needed
#   CHANGELOG          the notes' file, default CHANGELOG.md
#   GITHUB_REPOSITORY  OWNER/NAME, default baton-ci/baton
#   GITHUB_API_URL, GITHUB_UPLOADS_URL  GitHub Enterprise Server's, or a test server's
# Exit codes: 2 bad input (nothing sent), 3 GitHub refused (token, missing tag, release already
# there), 5 GitHub failed or could not be reached, 130/143 interrupted.
set -euo pipefail

tag=${1:?usage: scripts/github-release.sh TAG DIST}
dist=${2:?usage: scripts/github-release.sh TAG DIST}
changelog=${CHANGELOG:-$(dirname "$0")/../CHANGELOG.md}
case "$dist" in /*) ;; *) dist=$PWD/$dist ;; esac
case "$changelog" in /*) ;; *) changelog=$PWD/$changelog ;; esac
cd "$(dirname "$0")/.."
GO=${GO:-go}
if ! command -v "$GO" >/dev/null 2>&1; then
  echo "github-release.sh: Go is needed to build helper/cmd/baton-release: run this in an image with Go (cimg/go)" >&2
  exit 2
fi

# exec: a canceled job's SIGTERM reaches the tool, which then deletes its draft.
"$GO" build -o .cache/bin/baton-release ./helper/cmd/baton-release
exec .cache/bin/baton-release github-release --tag "$tag" --dist "$dist" --changelog "$changelog" ${DRY_RUN:+--dry-run}
