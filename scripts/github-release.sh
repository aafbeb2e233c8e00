#!/usr/bin/env bash
# github-release.sh TAG DIST: create the GitHub release TAG and upload every archive and
# SHA256SUMS in DIST (from scripts/build-release.sh). Needs $GITHUB_TOKEN (from the
# github-release context in CI). DRY_RUN=1 prints what would be sent and sends nothing.
set -euo pipefail

tag=${1:?usage: github-release.sh TAG DIST}
dist=${2:?usage: github-release.sh TAG DIST}
repo=${GITHUB_REPOSITORY:-baton-ci/baton}
api=${GITHUB_API_URL:-https://api.github.com}
uploads=${GITHUB_UPLOADS_URL:-https://uploads.github.com}

# release_assets lists what is uploaded: the archives and their checksums, nothing else.
release_assets() {
  find "$dist" -maxdepth 1 -type f \( -name 'baton_*.tar.gz' -o -name 'baton_*.zip' -o -name SHA256SUMS \) | sort
}

# github calls the API with the token in a header read from stdin, so it is never in argv.
github() {
  local method=$1 url=$2
  shift 2
  if [ -n "${DRY_RUN:-}" ]; then
    echo "$method $url $*" >&2
    [ "$method" = POST ] && [[ $url == */releases ]] && echo '{"id": 0}'
    return 0
  fi
  printf 'Authorization: Bearer %s\n' "$GITHUB_TOKEN" |
    curl -sSf --retry 3 -X "$method" -H @- -H 'Accept: application/vnd.github+json' "$url" "$@"
}

create_release() {
  local body
  body=$(jq -n --arg tag "$tag" '{tag_name: $tag, name: $tag, generate_release_notes: true}')
  github POST "$api/repos/$repo/releases" -H 'Content-Type: application/json' -d "$body" | jq -r .id
}

upload() {
  local id=$1 file=$2
  github POST "$uploads/repos/$repo/releases/$id/assets?name=$(basename "$file")" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$file" >/dev/null
  echo "uploaded $(basename "$file")"
}

main() {
  if [ -z "${DRY_RUN:-}" ] && [ -z "${GITHUB_TOKEN:-}" ]; then
    echo "github-release.sh: GITHUB_TOKEN is not set (the github-release context provides it)" >&2
    exit 2
  fi
  local assets id file
  assets=$(release_assets)
  if [ -z "$assets" ] || ! grep -q SHA256SUMS <<<"$assets"; then
    echo "github-release.sh: $dist holds no archives and SHA256SUMS; run scripts/build-release.sh first" >&2
    exit 2
  fi
  id=$(create_release)
  while read -r file; do upload "$id" "$file"; done <<<"$assets"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main
fi
