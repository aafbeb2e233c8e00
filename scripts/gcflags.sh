#!/usr/bin/env bash
# gcflags.sh: the -gcflags every shipped baton is built with (make build, make demo and
# scripts/build-release.sh), printed on one line.
#
# Inlining is turned off everywhere but in the runtime and the standard library's low-level
# packages, whose hot paths (allocation, maps, syscalls, reflection, strings) baton's start-up
# and polling run through. The rest (kong, yaml, sjson, net/http, crypto, baton's own packages)
# runs a handful of times per process, so inlining there buys no time a user sees and costs
# 0.66 MiB of the binary. Measured on linux/amd64: 8.69 → 8.03 MiB;
# a trigger's wall time unchanged within noise (interleaved A/B, 450 runs each).
# Go applies the last pattern a package matches, so the exceptions come after all=-l.
set -euo pipefail
flags=(-gcflags=all=-l)
for pkg in runtime/... internal/... sync/... syscall reflect strconv strings bytes unicode/... time os; do
  flags+=("-gcflags=$pkg=")
done
echo "${flags[*]}"
