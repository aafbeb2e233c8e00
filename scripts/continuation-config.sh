#!/usr/bin/env bash
# continuation-config.sh CONFIG ORB OUT PARAMS: write the continuation config OUT from CONFIG,
# with the orb packed in this pipeline (ORB, from scripts/pack-orb.sh) inlined where CONFIG has
# the placeholder `  baton: {}`, and the pipeline parameters as JSON to PARAMS, built with jq from
# $RUN_INTEGRATION_TESTS and $INTEGRATION_NOTE (never by pasting text into JSON).
set -euo pipefail

config=${1:?usage: continuation-config.sh CONFIG ORB OUT PARAMS}
orb=${2:?usage: continuation-config.sh CONFIG ORB OUT PARAMS}
out=${3:?usage: continuation-config.sh CONFIG ORB OUT PARAMS}
params=${4:?usage: continuation-config.sh CONFIG ORB OUT PARAMS}
placeholder='^  baton: \{\}'

# inline_orb prints CONFIG with the placeholder replaced by the packed orb, indented under it.
inline_orb() {
  if ! grep -Eq "$placeholder" "$config"; then
    cat "$config"
    return
  fi
  if [ ! -s "$orb" ]; then
    echo "continuation-config.sh: $config inlines the orb, but $orb is missing or empty" >&2
    return 1
  fi
  awk -v orb="$orb" '
    /^  baton: \{\}/ {
      print "  baton:"
      while ((getline line < orb) > 0) print (line == "" ? "" : "    " line)
      next
    }
    { print }
  ' "$config"
}

write_parameters() {
  jq -n \
    --argjson run "${RUN_INTEGRATION_TESTS:-false}" \
    --arg note "${INTEGRATION_NOTE:-}" \
    '{"run-integration-tests": $run, "integration-note": $note}'
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  inline_orb >"$out"
  write_parameters >"$params"
fi
