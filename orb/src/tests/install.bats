# shellcheck disable=SC2016,SC2088 # stubs in single quotes and a literal ~ on purpose
# Unit tests of scripts/install.sh: platform detection, checksums, download retries and the
# install directory, with uname, curl, wget and sleep stubbed; the download deadline and an
# interrupted install with the real curl and wget against a slow local server.

teardown() {
  PATH=$ORIGINAL_PATH
  stop_slow_server
}

setup() {
  load helpers
  ORIGINAL_PATH=$PATH
  # shellcheck source-path=SCRIPTDIR source=../scripts/install.sh
  source "$SCRIPTS/install.sh"
  make_stubs
  stub uname 'case "$1" in -s) echo "${UNAME_S:-Linux}" ;; -m) echo "${UNAME_M:-x86_64}" ;; esac'
  stub sleep ':'
  export HOME="$BATS_TEST_TMPDIR/home"
  mkdir -p "$HOME"
  export BASH_ENV="$BATS_TEST_TMPDIR/bash_env"
  : >"$BASH_ENV"

  # A release 1.2.3 whose linux/amd64 archive holds a baton that knows its version.
  RELEASE="$BATS_TEST_TMPDIR/release"
  mkdir -p "$RELEASE/pkg"
  printf '#!/bin/sh\n[ "$1" = version ] && echo "baton 1.2.3"\n' >"$RELEASE/pkg/baton"
  chmod +x "$RELEASE/pkg/baton"
  tar -czf "$RELEASE/baton_1.2.3_linux_amd64.tar.gz" -C "$RELEASE/pkg" baton
  GOOD_SUM=$(sha256 "$RELEASE/baton_1.2.3_linux_amd64.tar.gz")
  BIN_SUM=$(sha256 "$RELEASE/pkg/baton")
  # curl copies the release's file named by the URL's last segment to --output.
  stub curl 'out=""; url=""; while [ $# -gt 0 ]; do case "$1" in --output) out=$2; shift ;; -*) ;; *) url=$1 ;; esac; shift; done
cp "'"$RELEASE"'/${url##*/}" "$out"'

  export BATON_INSTALL_PINNED_VERSION=1.2.3
  BATON_INSTALL_PINNED_SHA256SUMS="$GOOD_SUM  baton_1.2.3_linux_amd64.tar.gz
$(printf '%064d' 0)  baton_1.2.3_darwin_arm64.tar.gz
$BIN_SUM  baton_1.2.3_linux_amd64/baton
$(printf '%064d' 1)  baton_1.2.3_darwin_arm64/baton"
  export BATON_INSTALL_PINNED_SHA256SUMS
  export BATON_INSTALL_VERSION="" BATON_INSTALL_SHA256SUMS=""
  export BATON_INSTALL_DIR="~/.local/bin"
  export BATON_INSTALL_BASE_URL=https://releases.example/baton
}

@test "platforms are detected from uname, Alpine and Git Bash included" {
  for case in "Linux x86_64 linux_amd64" "Linux aarch64 linux_arm64" "Darwin x86_64 darwin_amd64" \
    "Darwin arm64 darwin_arm64" "MINGW64_NT-10.0-19045 x86_64 windows_amd64" "MSYS_NT-10.0 x86_64 windows_amd64"; do
    read -r UNAME_S UNAME_M want <<<"$case"
    export UNAME_S UNAME_M
    run detect_platform
    assert_success
    assert_output "$want"
  done
}

@test "an unsupported platform is refused, naming it" {
  UNAME_S=FreeBSD UNAME_M=amd64 run detect_platform
  assert_failure
  assert_output --partial "unsupported operating system 'FreeBSD'"
  UNAME_S=Linux UNAME_M=armv7l run detect_platform
  assert_failure
  assert_output --partial "unsupported CPU 'armv7l' on linux"
  UNAME_S=MINGW64_NT-10.0 UNAME_M=aarch64 run detect_platform
  assert_failure
  assert_output --partial "baton is released for Windows on amd64"
}

@test "archives are tar.gz, zip for Windows" {
  run archive_name 1.2.3 linux_arm64
  assert_output baton_1.2.3_linux_arm64.tar.gz
  run archive_name 1.2.3 windows_amd64
  assert_output baton_1.2.3_windows_amd64.zip
}

@test "the expected sum is the archive's line of SHA256SUMS" {
  a=$(printf 'a%.0s' {1..64}) b=$(printf 'B%.0s' {1..64})
  run expected_sha256 x.tar.gz "$a  y.tar.gz
$b *x.tar.gz"
  assert_output "$(printf 'b%.0s' {1..64})"
  run expected_sha256 x.tar.gz "$(printf '%s  x.tar.gz\r' "$a")"
  assert_output "$a"
  run expected_sha256 x.tar.gz "$a" bare
  assert_output "$a"
  run expected_sha256 x/baton "$a"
  assert_output "" # a bare sum is the archive's, never the binary's
  run expected_sha256 x.tar.gz "$a
$b" bare
  assert_output ""
  run expected_sha256 x.tar.gz "abc  x.tar.gz"
  assert_output ""
}

@test "the pinned version installs, verified, and later steps find it on PATH" {
  run install_baton
  assert_success
  assert_output --partial "Installing baton 1.2.3 for linux/amd64 into $HOME/.local/bin"
  assert_output --partial "SHA-256 verified: $GOOD_SUM (against the sums carried in this orb release)"
  assert_output --partial "Installed $HOME/.local/bin/baton: baton 1.2.3"
  run grep -c 'releases.example/baton/v1.2.3/baton_1.2.3_linux_amd64.tar.gz' "$CALLS"
  assert_output 1
  run cat "$BASH_ENV"
  assert_output "export BATON_BIN=$HOME/.local/bin/baton
export PATH=$HOME/.local/bin:\"\$PATH\""
}

@test "later steps run the installed baton by its path, whatever else is on PATH" {
  stub baton 'echo "the other baton"'
  install_baton >/dev/null
  run bash -c 'source "$BASH_ENV"; "$BATON_BIN" version; command -v baton' # as each step does
  assert_output "baton 1.2.3
$HOME/.local/bin/baton"
}

@test "the installed binary is reused only when its own SHA-256 is the released one's" {
  install_baton >/dev/null
  : >"$CALLS"
  run install_baton
  assert_success
  assert_output --partial "baton 1.2.3 is already installed in $HOME/.local/bin (SHA-256 verified: $BIN_SUM): nothing to download"
  run grep -c '^curl' "$CALLS"
  assert_output 0
  run grep -c BATON_BIN "$BASH_ENV"
  assert_output 1 # a second install in the job adds no line
}

@test "a planted binary that prints the pinned version is installed over" {
  mkdir -p "$HOME/.local/bin"
  printf '#!/bin/sh\necho "baton 1.2.3"\n' >"$HOME/.local/bin/baton"
  chmod +x "$HOME/.local/bin/baton"
  planted=$(sha256 "$HOME/.local/bin/baton")
  run install_baton
  assert_success
  assert_output --partial "$HOME/.local/bin/baton is not the released binary (SHA-256 $planted, expected $BIN_SUM from the sums carried in this orb release): installing over it"
  assert_output --partial "SHA-256 verified: $GOOD_SUM"
  assert_equal "$(sha256 "$HOME/.local/bin/baton")" "$BIN_SUM"
}

@test "without a sum for the binary, a file at the install path is never trusted" {
  install_baton >/dev/null
  : >"$CALLS"
  BATON_INSTALL_PINNED_SHA256SUMS="$GOOD_SUM  baton_1.2.3_linux_amd64.tar.gz" run install_baton
  assert_success
  assert_output --partial "has no SHA-256 for the binary itself to check it against: installing over it"
  run grep -c '^curl' "$CALLS"
  assert_output 1
}

@test "an archive whose binary is not the one the sums name is refused" {
  BATON_INSTALL_PINNED_SHA256SUMS="$GOOD_SUM  baton_1.2.3_linux_amd64.tar.gz
$(printf '%064d' 2)  baton_1.2.3_linux_amd64/baton" run install_baton
  assert_failure
  assert_output --partial "checksum mismatch for baton in baton_1.2.3_linux_amd64.tar.gz: expected $(printf '%064d' 2), got $BIN_SUM"
  assert [ ! -e "$HOME/.local/bin/baton" ]
}

@test "a checksum mismatch is refused, saying expected and got, and nothing is installed" {
  echo "not the release" >"$RELEASE/baton_1.2.3_linux_amd64.tar.gz"
  bad=$(sha256 "$RELEASE/baton_1.2.3_linux_amd64.tar.gz")
  run install_baton
  assert_failure
  assert_output --partial "checksum mismatch for baton_1.2.3_linux_amd64.tar.gz: expected $GOOD_SUM, got $bad"
  assert [ ! -e "$HOME/.local/bin/baton" ]
  assert [ ! -s "$BASH_ENV" ]
}

@test "another version without its checksum is refused before any download" {
  BATON_INSTALL_VERSION=1.3.0 run install_baton
  assert_failure
  assert_output --partial "helper_version 1.3.0 is not the version this orb release pins (1.2.3)"
  assert_output --partial "set helper_checksums"
  run grep -c '^curl' "$CALLS"
  assert_output 0
}

@test "another version installs with the checksum the user gives" {
  sed -i 's/1\.2\.3/1.3.0/' "$RELEASE/pkg/baton"
  tar -czf "$RELEASE/baton_1.3.0_linux_amd64.tar.gz" -C "$RELEASE/pkg" baton
  sum=$(sha256 "$RELEASE/baton_1.3.0_linux_amd64.tar.gz")
  BATON_INSTALL_VERSION=v1.3.0 BATON_INSTALL_SHA256SUMS="$sum  baton_1.3.0_linux_amd64.tar.gz" run install_baton
  assert_success
  assert_output --partial "SHA-256 verified: $sum (against helper_checksums)"
  assert_output --partial "Installed $HOME/.local/bin/baton: baton 1.3.0"
}

@test "an archive holding another version than asked for is refused" {
  cp "$RELEASE/baton_1.2.3_linux_amd64.tar.gz" "$RELEASE/baton_1.3.0_linux_amd64.tar.gz"
  BATON_INSTALL_VERSION=1.3.0 BATON_INSTALL_SHA256SUMS="$GOOD_SUM" run install_baton
  assert_failure
  assert_output --partial "baton_1.3.0_linux_amd64.tar.gz holds baton 1.2.3, not 1.3.0"
  assert [ ! -e "$HOME/.local/bin/baton" ]
}

@test "an orb packed without pack-orb.sh pins nothing and says what to do" {
  BATON_INSTALL_PINNED_VERSION=@BATON_PINNED_VERSION@ run install_baton
  assert_failure
  assert_output --partial "pins no baton version (it was not packed by scripts/pack-orb.sh): set helper_version and helper_checksums"
}

@test "a version that is not a version is refused" {
  BATON_INSTALL_VERSION='1.2.3/../../x' BATON_INSTALL_SHA256SUMS=x run install_baton
  assert_failure
  assert_output --partial "is not a version like 1.4.0"
}

@test "a transient download failure is retried with a growing pause" {
  stub curl 'n=$(grep -c "^curl" "$CALLS"); if [ "$n" -le 2 ]; then echo "curl: (22) 503" >&2; exit 22; fi
out=""; while [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done
cp "'"$RELEASE"'/baton_1.2.3_linux_amd64.tar.gz" "$out"'
  run install_baton
  assert_success
  assert_output --partial "Download failed (attempt 1 of 4); retrying in 1s"
  assert_output --partial "Download failed (attempt 2 of 4); retrying in 2s"
  run grep '^sleep' "$CALLS"
  assert_output "sleep 1
sleep 2"
}

@test "a download that keeps failing gives up after 4 attempts" {
  stub curl 'echo "curl: (6) Could not resolve host" >&2; exit 6'
  run install_baton
  assert_failure
  assert_output --partial "could not download https://releases.example/baton/v1.2.3/baton_1.2.3_linux_amd64.tar.gz after 4 attempts"
  run grep -c '^curl' "$CALLS"
  assert_output 4
}

@test "wget is used when curl is missing, and one of them is required" {
  stub wget 'out=""; while [ $# -gt 0 ]; do [ "$1" = -O ] && out=$2 && shift; shift; done
cp "'"$RELEASE"'/baton_1.2.3_linux_amd64.tar.gz" "$out"'
  rm "$STUBS/curl"
  only_tools bash tar gzip sha256sum awk mkdir rm mv cp chmod mktemp tr grep id cut sed timeout
  run install_baton
  assert_success
  assert_output --partial "SHA-256 verified: $GOOD_SUM"
  grep -q '^wget' "$CALLS"
  rm "$STUBS/wget"
  run fetch https://x/y "$BATS_TEST_TMPDIR/y"
  PATH=$ORIGINAL_PATH
  assert_failure
  assert_output --partial "neither curl nor wget is installed"
}

@test "shasum serves where sha256sum is missing (macOS)" {
  only_tools bash shasum perl tr
  run sha256_of "$RELEASE/baton_1.2.3_linux_amd64.tar.gz"
  PATH=$ORIGINAL_PATH
  assert_success
  assert_output "$GOOD_SUM"
}

@test "install_dir: ~ is home, relative paths are made absolute" {
  run resolve_dir "~/.local/bin"
  assert_output "$HOME/.local/bin"
  cd "$BATS_TEST_TMPDIR"
  run resolve_dir tools/bin/
  assert_output "$BATS_TEST_TMPDIR/tools/bin"
}

@test "a directory where the binary goes is refused, naming it" {
  mkdir -p "$HOME/.local/bin/baton"
  run install_baton
  assert_failure
  assert_output "baton install: $HOME/.local/bin/baton is a directory: remove it, or choose another install_dir"
}

@test "an install_dir that cannot be created is refused, naming it" {
  touch "$BATS_TEST_TMPDIR/a-file"
  BATON_INSTALL_DIR="$BATS_TEST_TMPDIR/a-file/bin" run install_baton
  assert_failure
  assert_output --partial "cannot create install_dir $BATS_TEST_TMPDIR/a-file/bin"
  assert_output --partial "the orb never uses sudo"
}

@test "an install_dir the job user cannot write is refused, naming it" {
  ro=$(mktemp -d /tmp/baton-bats-ro.XXXXXX)
  cp "$SCRIPTS/install.sh" "$ro/install.sh"
  chmod 755 "$ro"
  mkdir "$ro/bin"
  chmod 555 "$ro/bin"
  as_job_user=()
  if [ "$(id -u)" -eq 0 ]; then # root writes anywhere: check as nobody
    command -v setpriv >/dev/null || skip "running as root without setpriv"
    as_job_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  fi
  run "${as_job_user[@]}" bash -c '. "$1"; prepare_dir "$2"' _ "$ro/install.sh" "$ro/bin"
  rm -rf "$ro"
  assert_failure
  assert_output --partial "install_dir $ro/bin is not writable by"
  assert_output --partial "the orb never uses sudo"
}

@test "BATON_BIN and PATH go into BASH_ENV once each" {
  export_baton "/opt/baton tools/bin/baton"
  export_baton "/opt/baton tools/bin/baton"
  run cat "$BASH_ENV"
  assert_output 'export BATON_BIN=/opt/baton\ tools/bin/baton
export PATH=/opt/baton\ tools/bin:"$PATH"'
  BASH_ENV="" run export_baton /opt/x/baton
  assert_output --partial "run /opt/x/baton by its path, or add /opt/x to PATH yourself"
}

@test "without HOME, an install_dir under ~ is a clear error" {
  run env -u HOME bash -c '. "$1"; install_baton' _ "$SCRIPTS/install.sh"
  assert_failure
  assert_output --partial "install_dir ~/.local/bin is in the home directory, but HOME is not set: set HOME, or give install_dir as an absolute path"
  for home in "" relative/home; do
    HOME=$home run install_baton
    assert_failure
    assert_output --partial "install_dir ~/.local/bin is in the home directory, but HOME is "
    assert_output --partial "set HOME, or give install_dir as an absolute path"
    refute_output --partial "Installing"
  done
  BATON_INSTALL_DIR="$BATS_TEST_TMPDIR/bin" run install_baton
  assert_success
}

# archive_with ARGS… replaces the release's archive by one tar makes from ARGS in pkg/, and
# pins its sum.
archive_with() {
  (cd "$RELEASE/pkg" && tar -czf "$RELEASE/baton_1.2.3_linux_amd64.tar.gz" "$@" 2>/dev/null)
  BATON_INSTALL_PINNED_SHA256SUMS="$(sha256 "$RELEASE/baton_1.2.3_linux_amd64.tar.gz")  baton_1.2.3_linux_amd64.tar.gz"
}

@test "archive entries that are links, or that leave the directory, are refused" {
  mkdir -p "$HOME/.ssh" && echo secret >"$HOME/.ssh/id"
  ln -s "$HOME/.ssh/id" "$RELEASE/pkg/link"
  ln "$RELEASE/pkg/baton" "$RELEASE/pkg/hard"
  for case in "symlink|--transform=s,^link\$,baton, link|not a plain file" \
    "hard link|baton hard|not a plain file" \
    "directory|--transform=s,^,sub/, baton .|not a plain file" \
    "parent|--transform=s,^,../, baton|outside its directory (../baton)" \
    "absolute|-P --transform=s,^,/tmp/, baton|outside its directory (/tmp/baton)"; do
    IFS='|' read -r _ args want <<<"$case"
    # shellcheck disable=SC2086 # the tar arguments split on purpose
    archive_with $args
    run install_baton
    assert_failure
    assert_output --partial "baton_1.2.3_linux_amd64.tar.gz holds an entry"
    assert_output --partial "$want"
    assert [ ! -e "$HOME/.local/bin/baton" ]
  done
  assert [ ! -e /tmp/baton ] || [ "$(cat /tmp/baton)" != "$(cat "$RELEASE/pkg/baton")" ]
}

@test "a zip with a link is refused" {
  command -v zip >/dev/null || skip "zip is not installed"
  ln -s /etc/passwd "$RELEASE/pkg/baton.exe"
  (cd "$RELEASE/pkg" && zip -q --symlinks "$BATS_TEST_TMPDIR/b.zip" baton.exe)
  run check_entries "$BATS_TEST_TMPDIR/b.zip"
  assert_failure
  assert_output --partial "b.zip holds an entry that is not a plain file"
  rm "$RELEASE/pkg/baton.exe"
  (cd "$RELEASE/pkg" && zip -q "$BATS_TEST_TMPDIR/c.zip" baton)
  run check_entries "$BATS_TEST_TMPDIR/c.zip"
  assert_success
}

@test "a download that drips past the deadline gives up, with curl and with wget" {
  start_slow_server
  download_seconds=3
  rm "$STUBS/curl"
  run download "$SLOW_URL/v1.2.3/baton_1.2.3_linux_amd64.tar.gz" "$BATS_TEST_TMPDIR/a.tar.gz"
  assert_failure
  assert_output --partial "within 3s (1 attempt): the server is too slow or not answering"
  only_tools bash curl rm
  run fetch "$SLOW_URL/x" "$BATS_TEST_TMPDIR/b" 2
  PATH=$ORIGINAL_PATH
  assert_failure 28 # curl: operation timed out
  only_tools bash wget timeout rm
  run fetch "$SLOW_URL/x" "$BATS_TEST_TMPDIR/c" 2
  PATH=$ORIGINAL_PATH
  assert_failure 124 # timeout(1) ended wget
}

@test "an install killed during its download leaves no temporary directory" {
  start_slow_server
  export TMPDIR="$BATS_TEST_TMPDIR/tmp" BATON_INSTALL_BASE_URL=$SLOW_URL
  mkdir "$TMPDIR"
  PATH=$ORIGINAL_PATH bash "$SCRIPTS/install.sh" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
  pid=$!
  for _ in $(seq 100); do
    grep -q Installing "$BATS_TEST_TMPDIR/out" && [ -n "$(ls "$TMPDIR")" ] && break
    "$REAL_SLEEP" 0.1
  done
  run ls "$TMPDIR"
  assert_output --regexp '^baton-install\.'
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  assert_equal "$status" 143
  run ls -A "$TMPDIR"
  assert_output ""
}

@test "sourcing the script runs nothing" {
  run bash -c '. "$1"; echo sourced' _ "$SCRIPTS/install.sh"
  assert_success
  assert_output sourced
}
