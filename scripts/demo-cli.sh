#!/usr/bin/env bash
# make demo-cli: the CLI alone, triggering a pipeline end to end against the CircleCI API simulator on
# loopback, with the parameters that break the usual curl one-liner. Needs bin/ built (make build).
# The single-quoted $VARs are on purpose: baton expands them itself, with no shell involved.
# shellcheck disable=SC2016
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}

work=$(mktemp -d)
sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cat >"$work/sim.yaml" <<'EOF'
tokens:
  - token: demo-token-0123456789
    login: deployer
projects:
  - slug: gh/acme/deploy
    parameters:
      - {name: image-name, type: string, default: ""}
      - {name: replicas, type: integer, default: 1}
      - {name: canary, type: boolean, default: false}
      - {name: release-notes, type: string, default: ""}
    workflows:
      - name: deploy
        duration: 30s
        jobs:
          - {name: rollout}
EOF

say "Starting the CircleCI API simulator"
"$BIN/circleci-sim" --config "$work/sim.yaml" --url-file "$work/url" --log-bodies 2>"$work/sim.log" &
sim_pid=$!
for _ in $(seq 50); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(cat "$work/url")
echo "simulator at $url"

# What a CircleCI job would have: the token from a context, the usual built-in variables.
export CIRCLECI_HOST="$url"
export CIRCLE_TOKEN=demo-token-0123456789
export DOCKER_LOGIN=acme CIRCLE_PROJECT_REPONAME=api
export BASH_ENV="$work/bash_env"

notes='Fixes "quoting" in $(shells) & <<orbs>> — déjà vu 🚀'
say "baton trigger (an image-name, typed parameters, and notes full of quotes)"
printf '%s\n' "\$ baton trigger --project gh/acme/deploy --branch main \\" \
  "    --param 'image-name=\$DOCKER_LOGIN/\$CIRCLE_PROJECT_REPONAME:0.1.123' \\" \
  "    --param replicas=3 --param canary=true --param 'release-notes=$notes' \\" \
  "    --env-file \"\$BASH_ENV\""
"$BIN/baton" trigger --project gh/acme/deploy --branch main \
  --param 'image-name=$DOCKER_LOGIN/$CIRCLE_PROJECT_REPONAME:0.1.123' \
  --param replicas=3 --param canary=true --param "release-notes=$notes" \
  --env-file "$BASH_ENV"

say "What the simulator received"
cat "$work/sim.log"

say "What later steps see in \$BASH_ENV"
cat "$BASH_ENV"

say "The link works (the simulator serves the pipeline's page)"
# shellcheck source=/dev/null
. "$BASH_ENV"
curl -sS "$BATON_PIPELINE_URL"

say "Bad input is refused before anything is sent (exit 2)"
received_before=$(grep -c ' -> ' "$work/sim.log")
echo "\$ baton trigger --project gh/acme/deploy --param replicas:int=3x"
set +e
"$BIN/baton" trigger --project gh/acme/deploy --param replicas:int=3x
echo "exit $?"
echo "\$ baton trigger --project gh/acme/deploy --param 'image-name=\$UNSET_VARIABLE'"
"$BIN/baton" trigger --project gh/acme/deploy --param 'image-name=$UNSET_VARIABLE'
echo "exit $?"
set -e
echo "requests the simulator received for these: $(($(grep -c ' -> ' "$work/sim.log") - received_before))"

say "Parameters the project would reject are refused too: pre-flight reads its declarations (exit 2)"
triggers_before=$(grep -c ' -> 201 triggerPipeline' "$work/sim.log")
echo "\$ baton trigger --project gh/acme/deploy --branch main --param image_name=acme/api:1 --param replicas=three"
set +e
"$BIN/baton" trigger --project gh/acme/deploy --branch main --param image_name=acme/api:1 --param replicas=three
echo "exit $?"
set -e
echo "pipelines triggered for this: $(($(grep -c ' -> 201 triggerPipeline' "$work/sim.log") - triggers_before)) (it only read the project's latest config)"

say "--dry-run shows exactly what would be sent; the token stays [redacted]"
echo "\$ baton trigger --project gh/acme/deploy --tag v1.2.3 --param 'release-notes=\$\$5 & <<x>>' --dry-run"
"$BIN/baton" trigger --project gh/acme/deploy --tag v1.2.3 --param 'release-notes=$$5 & <<x>>' --dry-run
