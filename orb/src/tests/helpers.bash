# Shared by the bats tests of orb/src/scripts: stubs on PATH, and a PATH without some tools.
# shellcheck shell=bash disable=SC2016,SC2034 # stub bodies expand when they run; SCRIPTS is for the tests

bats_load_library bats-support
bats_load_library bats-assert

SCRIPTS="$BATS_TEST_DIRNAME/../scripts"
REAL_SLEEP=$(command -v sleep) # before any stub of sleep

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
  rm -rf "$tools"
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

# start_slow_server starts an HTTP server on loopback that answers every request with 200 and
# then one byte a second, never finishing; its URL is in $SLOW_URL. Needs python3.
start_slow_server() {
  command -v python3 >/dev/null 2>&1 || skip "python3 is not installed: it serves the slow download"
  python3 -c '
import http.server, sys, time
class Drip(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x"); self.wfile.flush(); time.sleep(1)
        except (BrokenPipeError, ConnectionResetError):
            pass
    def log_message(self, *args):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
srv.daemon_threads = True
open(sys.argv[1], "w").write("http://127.0.0.1:%d" % srv.server_address[1])
srv.serve_forever()
' "$BATS_TEST_TMPDIR/slow-url" 3>&- &
  SLOW_PID=$!
  for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/slow-url" ] && break; "$REAL_SLEEP" 0.1; done
  SLOW_URL=$(cat "$BATS_TEST_TMPDIR/slow-url")
}

stop_slow_server() {
  [ -n "${SLOW_PID:-}" ] && kill "$SLOW_PID" 2>/dev/null
  return 0
}
