#!/usr/bin/env bash
# fetch-shared.sh [DIR]: put the public CircleCI data the tests read into DIR (default ../shared,
# beside the repository), as CI does before make test: CircleCI's OpenAPI description of API v2
# (circleci/circleci-docs) and the config and orb JSON schema of its YAML language server
# (CircleCI-Public/circleci-yaml-language-server), each from a pinned commit and checked against
# its pinned SHA-256. A file already there with the right sum is kept. The real API bodies of
# DIR/circleci-real-api are not public files and are not fetched: the tests reading them skip
# without them.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-../shared}

# name|url|sha256; raw files at fixed commits, so their bytes never change.
files=(
  "circleci-openapi/openapi.json|https://raw.githubusercontent.com/circleci/circleci-docs/c30e2bde7796f917e32bf923a19ba27bfc9fcbd0/docs/reference/modules/ROOT/attachments/openapi-final.json|f72141ad9f3780c3ef9d74c904344a23958aa20bcd723e0df87e12c856a3a018"
  "circleci-schema/schema.json|https://raw.githubusercontent.com/CircleCI-Public/circleci-yaml-language-server/c9a13f55002be4d417369b2dfce7f9da1ea7e517/schema.json|943887ba97ed0047f4170e83d3e5bf045ae12d824f6da56ca50c2224a7fbb458"
)

# has_sum FILE SHA256 reports whether FILE exists with that SHA-256.
has_sum() {
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

fetch() {
  local name=$1 url=$2 sum=$3 target tmp
  target=$dir/$name
  if has_sum "$target" "$sum"; then
    echo "$target: present, SHA-256 verified"
    return
  fi
  mkdir -p "$(dirname "$target")"
  tmp=$(mktemp "$target.XXXXXX")
  if ! curl --fail --silent --show-error --location --retry 3 --output "$tmp" "$url"; then
    rm -f "$tmp"
    echo "fetch-shared.sh: could not download $url" >&2
    return 1
  fi
  if ! has_sum "$tmp" "$sum"; then
    echo "fetch-shared.sh: $url has SHA-256 $(sha256sum "$tmp" | cut -d' ' -f1), not the pinned $sum" >&2
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$target"
  echo "$target: downloaded, SHA-256 verified"
}

main() {
  local entry name url sum
  for entry in "${files[@]}"; do
    IFS='|' read -r name url sum <<<"$entry"
    fetch "$name" "$url" "$sum"
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main
fi
