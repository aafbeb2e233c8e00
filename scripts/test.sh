#!/usr/bin/env bash
# The whole suite, as CI runs it: lint, the bats tests of scripts/, the orb's bats tests and
# release (scripts/test-orb.sh), then every Go test with the race detector (fuzz seeds
# included), the orb's end-to-end tests among them. Needs only Go and root for apt-get;
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

if [ ! -f ../shared/circleci-openapi/openapi.json ]; then
  echo "note: ../shared/circleci-openapi/openapi.json is absent: the OpenAPI conformance tests will be skipped" >&2
fi
if [ ! -f ../shared/circleci-schema/schema.json ]; then
  echo "note: ../shared/circleci-schema/schema.json is absent: the packed orb and its examples will not be checked against CircleCI's schema" >&2
fi
scripts/lint.sh
scripts/ensure-tools.sh bats
bats scripts/tests
orb_release=$PWD/.cache/orb-test
BATON_ORB_RELEASE_VERSION=1.0.0-e2e scripts/test-orb.sh "$orb_release"
BATON_ORB_RELEASE=$orb_release BATON_ORB_RELEASE_VERSION=1.0.0-e2e \
  CGO_ENABLED=1 "$GO" test -race -count=1 ./...
