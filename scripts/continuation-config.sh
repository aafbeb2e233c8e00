#!/usr/bin/env bash
# continuation-config.sh CONFIG ORB OUT PARAMS: write the continuation config OUT from CONFIG,
# with the orb packed in this pipeline (ORB, from scripts/pack-orb.sh) inlined where CONFIG has
# the placeholder `  baton: {}`, and the parameters to continue with as JSON to PARAMS.
#
# Parameters the pipeline was triggered with carry over to the continuation by themselves, and
# CircleCI refuses to be given them twice, so PARAMS holds only what the setup stage adds: for a
# config that inlines the orb, packed-orb-sha256, the SHA-256 of ORB, which the continued
# config's build job checks its own rebuild of the orb against; otherwise nothing ({}).
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

# write_parameters prints the parameters to continue with, built with jq (never by pasting
# text into JSON).
write_parameters() {
  if ! grep -Eq "$placeholder" "$config"; then
    echo '{}'
    return
  fi
  jq -n --arg sum "$(sha256sum "$orb" | cut -d' ' -f1)" '{"packed-orb-sha256": $sum}'
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  inline_orb >"$out"
  write_parameters >"$params"
fi
