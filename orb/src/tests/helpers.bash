# Shared by the bats tests of orb/src/scripts: stubs on PATH, and a PATH without some tools.
# shellcheck shell=bash disable=SC2016,SC2034 # stub bodies expand when they run; SCRIPTS is for the tests

bats_load_library bats-support
bats_load_library bats-assert

SCRIPTS="$BATS_TEST_DIRNAME/../scripts"

# make_stubs puts an empty stub directory first on PATH; calls of stubs are logged to $CALLS.
make_stubs() {
  STUBS="$BATS_TEST_TMPDIR/stubs"
  CALLS="$BATS_TEST_TMPDIR/calls.log"
  mkdir -p "$STUBS"
  : >"$CALLS"
  PATH="$STUBS:$PATH"
  export CALLS
}

# stub NAME SCRIPT writes an executable stub; it logs "NAME ARGS…" to $CALLS, then runs SCRIPT.
stub() {
  printf '#!/usr/bin/env bash\nprintf "%%s\\n" "%s $*" >>"$CALLS"\n%s\n' "$1" "$2" >"$STUBS/$1"
  chmod +x "$STUBS/$1"
}

# only_tools NAME…: PATH becomes the stubs and links to just these system tools.
only_tools() {
  local tools="$BATS_TEST_TMPDIR/tools" tool
  mkdir -p "$tools"
  for tool in "$@"; do
    ln -sf "$(command -v "$tool")" "$tools/$tool"
  done
  PATH="$STUBS:$tools"
}

# sha256 FILE prints the SHA-256 of FILE.
sha256() {
  sha256sum "$1" | cut -d' ' -f1
}
