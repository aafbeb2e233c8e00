#!/usr/bin/env bash
# The install command's step: put a verified baton on PATH. Every input comes from the step's
# environment (see commands/install.yml):
#   BATON_INSTALL_VERSION            the version asked for; empty means the pinned one
#   BATON_INSTALL_SHA256SUMS         sums for a version other than the pinned one
#   BATON_INSTALL_DIR                where the binary goes; a leading ~ is $HOME
#   BATON_INSTALL_BASE_URL           archives are at BASE/vVERSION/ARCHIVE
#   BATON_INSTALL_PINNED_VERSION     filled in by scripts/pack-orb.sh
#   BATON_INSTALL_PINNED_SHA256SUMS  filled in by scripts/pack-orb.sh: the SHA256SUMS lines of
#                                    the archives and of the binaries in them
# Later steps run the binary this step verified by its absolute path, $BATON_BIN, which it
# exports through $BASH_ENV. Sourcing this file, as the bats tests do, only defines the functions.

# CircleCI runs a step with /bin/sh when the image has no bash (Alpine, docker images): these
# first lines are POSIX, so that any shell stops here with one line saying what to do.
if [ -z "${BASH_VERSION:-}" ]; then
  echo "baton orb: this step needs bash, but it runs in another shell (the image has no /bin/bash, or the step sets shell:): use an image with bash, e.g. cimg/base, or install it in an earlier step (on Alpine: apk add bash)" >&2
  exit 127
fi

download_attempts=4
# All attempts of one download together may take this long, however slowly bytes arrive.
download_seconds=300
# The temporary directory of an install under way and its download; cleanup removes them.
install_tmp=""
fetch_pid=""

say() {
  printf '%s\n' "$*"
}

error() {
  printf 'baton install: %s\n' "$*" >&2
  return 1
}

# detect_platform prints os_arch of this machine as the release archives name it.
detect_platform() {
  local kernel machine os arch
  kernel=$(uname -s)
  machine=$(uname -m)
  case "$kernel" in
    Linux) os=linux ;; # glibc and musl (Alpine) alike: the binary is static
    Darwin) os=darwin ;;
    MINGW64_NT* | MSYS_NT* | CYGWIN_NT*) os=windows ;;
    *)
      error "unsupported operating system '$kernel': baton is released for Linux, macOS and Windows (under Git Bash)"
      return
      ;;
  esac
  case "$machine" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *)
      error "unsupported CPU '$machine' on $os: baton is released for amd64 and arm64"
      return
      ;;
  esac
  if [ "$os" = windows ] && [ "$arch" != amd64 ]; then
    error "unsupported CPU '$machine' on Windows: baton is released for Windows on amd64"
    return
  fi
  printf '%s_%s\n' "$os" "$arch"
}

# archive_name VERSION PLATFORM prints the release archive's file name.
archive_name() {
  case "$2" in
    windows_*) printf 'baton_%s_%s.zip\n' "$1" "$2" ;;
    *) printf 'baton_%s_%s.tar.gz\n' "$1" "$2" ;;
  esac
}

# expected_sha256 NAME SUMS [BARE] prints NAME's sum from SUMS, lines of "SHA256  NAME" as in a
# SHA256SUMS file. With BARE=bare, a single bare sum in SUMS counts too (for an archive: the
# user may give just that). Prints nothing if absent.
expected_sha256() {
  printf '%s\n' "$2" | awk -v name="$1" -v bare_ok="${3:-}" '
    function is_sum(s) { return length(s) == 64 && s !~ /[^0-9A-Fa-f]/ }
    { sub(/\r$/, "") }
    NF == 2 && is_sum($1) {
      entry = $2
      sub(/^\*/, "", entry)
      if (entry == name && !found) { found = tolower($1) }
    }
    NF == 1 && is_sum($1) { bare = tolower($1); bares++ }
    END {
      if (found != "") print found
      else if (bare_ok == "bare" && bares == 1) print bare
    }'
}

# binary_entry VERSION PLATFORM BIN names the binary of that release in SHA256SUMS, as
# scripts/build-release.sh lists it next to the archives.
binary_entry() {
  printf 'baton_%s_%s/%s\n' "$1" "$2" "$3"
}

# sha256_of FILE prints the SHA-256 of FILE in lower-case hex.
sha256_of() {
  local out
  if command -v sha256sum >/dev/null 2>&1; then
    out=$(sha256sum "$1") || return
  elif command -v shasum >/dev/null 2>&1; then
    out=$(shasum -a 256 "$1") || return
  else
    error "neither sha256sum nor shasum is installed: add one to the executor image (coreutils or perl)"
    return
  fi
  out=${out#\\}
  printf '%s\n' "${out%% *}" | tr 'A-F' 'a-f'
}

# fetch URL FILE SECONDS downloads once, with curl or else wget, giving up after SECONDS.
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --connect-timeout 20 --max-time "$3" --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    # wget's -T only bounds each read, so a slow drip never ends it: timeout(1) does, where
    # the image has it (coreutils, busybox).
    if command -v timeout >/dev/null 2>&1; then
      timeout "$3" wget -q -T 20 -O "$2" "$1"
    else
      wget -q -T 20 -O "$2" "$1"
    fi
  else
    error "neither curl nor wget is installed: add one to the executor image"
  fi
}

# download URL FILE fetches URL, retrying failures with a growing pause, all of it within
# download_seconds. The fetch runs in the background so that a signal ends the step at once.
download() {
  local attempt=1 pause=1 deadline=$((SECONDS + download_seconds)) status
  while :; do
    rm -f "$2"
    fetch "$1" "$2" "$((deadline - SECONDS))" &
    fetch_pid=$!
    status=0
    wait "$fetch_pid" || status=$?
    fetch_pid=""
    if [ "$status" -eq 0 ]; then
      return 0
    fi
    if [ "$attempt" -ge "$download_attempts" ]; then
      error "could not download $1 after $attempt attempts"
      return
    fi
    if [ $((SECONDS + pause)) -ge "$deadline" ]; then
      error "could not download $1 within ${download_seconds}s ($attempt attempt$([ "$attempt" -eq 1 ] || echo s)): the server is too slow or not answering"
      return
    fi
    say "Download failed (attempt $attempt of $download_attempts); retrying in ${pause}s"
    sleep "$pause"
    attempt=$((attempt + 1))
    pause=$((pause * 2))
  done
}

# cleanup stops a download under way and removes the install's temporary directory.
cleanup() {
  if [ -n "$fetch_pid" ]; then
    kill "$fetch_pid" 2>/dev/null
    wait "$fetch_pid" 2>/dev/null
    fetch_pid=""
  fi
  if [ -n "$install_tmp" ]; then
    rm -rf "$install_tmp"
    install_tmp=""
  fi
  return 0
}

# resolve_dir DIR prints DIR as an absolute path, with a leading ~ replaced by $HOME.
resolve_dir() {
  local dir=$1
  # shellcheck disable=SC2088 # a literal ~ from the parameter, replaced here
  case "$dir" in
    "~" | "~/"*)
      case "${HOME:-}" in
        /*) ;;
        *)
          error "install_dir $dir is in the home directory, but HOME is ${HOME:+not absolute ($HOME)}${HOME:-not set}: set HOME, or give install_dir as an absolute path"
          return
          ;;
      esac
      dir=$HOME${dir#"~"}
      ;;
  esac
  case "$dir" in
    /* | [A-Za-z]:*) ;;
    *) dir=$PWD/$dir ;;
  esac
  printf '%s\n' "${dir%/}"
}

# prepare_dir DIR creates DIR if needed and checks that this user can write it.
prepare_dir() {
  if ! mkdir -p "$1" 2>/dev/null || [ ! -d "$1" ]; then
    error "cannot create install_dir $1: choose a directory the job user can create (the orb never uses sudo), e.g. ~/.local/bin"
    return
  fi
  if [ ! -w "$1" ]; then
    error "install_dir $1 is not writable by $(id -un 2>/dev/null || echo this user): choose a directory the job user owns (the orb never uses sudo), e.g. ~/.local/bin"
    return
  fi
}

# installed_version BINARY prints the version of an installed baton, or nothing.
installed_version() {
  local out
  if [ -x "$1" ] && out=$("$1" version 2>/dev/null); then
    printf '%s\n' "${out#baton }"
  fi
}

# check_entries ARCHIVE refuses an archive with an entry other than a plain file (a link, a
# directory, a device) or whose name leaves the directory it is unpacked in.
check_entries() {
  local names types name
  case "$1" in
    *.zip)
      if ! names=$(unzip -Z1 "$1") || ! types=$(unzip -Z "$1" | sed '1,2d;$d' | cut -c1); then
        error "cannot list ${1##*/}: it is not a zip archive"
        return
      fi
      ;;
    *)
      if ! names=$(tar -tzf "$1") || ! types=$(tar -tvzf "$1" | cut -c1); then
        error "cannot list ${1##*/}: it is not a gzip'd tar archive"
        return
      fi
      ;;
  esac
  # Each awk reads all its input: one that stopped early could fail the step on SIGPIPE.
  if [ -n "$(printf '%s\n' "$types" | awk '$0 != "-" && !found++')" ]; then
    error "${1##*/} holds an entry that is not a plain file (a link or a directory): refusing to unpack it"
    return
  fi
  # Absolute, with a .. component, or with a backslash (a Windows separator).
  name=$(printf '%s\n' "$names" | awk '/^\// || ("/" $0 "/") ~ /\/\.\.\// || index($0, "\\") { if (!found++) print }')
  if [ -n "$name" ]; then
    error "${1##*/} holds an entry outside its directory ($name): refusing to unpack it"
    return
  fi
}

# extract ARCHIVE DIR MEMBER unpacks MEMBER of ARCHIVE into DIR, once check_entries agrees.
extract() {
  check_entries "$1" || return
  case "$1" in
    *.zip)
      if ! command -v unzip >/dev/null 2>&1; then
        error "unzip is needed to unpack $1: add it to the executor image"
        return
      fi
      unzip -q -o "$1" "$3" -d "$2" || return
      ;;
    *) tar -xzf "$1" -C "$2" "$3" || return ;;
  esac
  if [ ! -f "$2/$3" ] || [ -L "$2/$3" ]; then
    error "${1##*/} holds no $3"
  fi
}

# check_version BINARY VERSION ARCHIVE checks that the binary is the version asked for, so that
# the next run finds it installed.
check_version() {
  local got
  got=$(installed_version "$1")
  if [ "$got" != "$2" ]; then
    error "$3 holds baton ${got:-of no recognisable version}, not $2"
  fi
}

# export_baton BINARY tells later steps, through $BASH_ENV, which baton to run: BATON_BIN, the
# path the orb's steps call, and its directory first on PATH for the job's own steps. A line
# already there is not added again.
export_baton() {
  local line
  if [ -z "${BASH_ENV:-}" ]; then
    say "BASH_ENV is not set, so later steps cannot be told: run $1 by its path, or add ${1%/*} to PATH yourself"
    return 0
  fi
  # shellcheck disable=SC2016 # $PATH is expanded when $BASH_ENV is sourced
  for line in "$(printf 'export BATON_BIN=%q' "$1")" "$(printf 'export PATH=%q:"$PATH"' "${1%/*}")"; do
    grep -qxF -- "$line" "$BASH_ENV" 2>/dev/null || printf '%s\n' "$line" >>"$BASH_ENV"
  done
}

# check_sum FILE EXPECTED WHAT prints FILE's SHA-256 if it is EXPECTED, else fails naming WHAT.
check_sum() {
  local actual
  actual=$(sha256_of "$1") || return
  if [ "$actual" != "$2" ]; then
    error "checksum mismatch for $3: expected $2, got $actual; refusing to install it (the download is corrupt or was tampered with)"
    return
  fi
  printf '%s\n' "$actual"
}

# reuse_installed BINARY EXPECTED ORIGIN succeeds when BINARY is the released baton: its own
# SHA-256 is EXPECTED. Whatever else is there, even printing the right version, is replaced.
reuse_installed() {
  local actual
  [ -f "$1" ] || return 1
  if [ -n "$2" ] && actual=$(sha256_of "$1") && [ "$actual" = "$2" ]; then
    return 0
  fi
  if [ -z "$2" ]; then
    say "$1 exists, but $3 has no SHA-256 for the binary itself to check it against: installing over it"
  else
    say "$1 is not the released binary (SHA-256 ${actual:-unreadable}, expected $2 from $3): installing over it"
  fi
  return 1
}

# install_baton is the step: choose the version and its sums, then download, verify and
# install, unless that very binary is already installed.
install_baton() {
  local version pinned sums origin platform archive expected expected_bin dir bin sum status
  pinned=${BATON_INSTALL_PINNED_VERSION:-}
  case "$pinned" in @*) pinned="" ;; esac # left unfilled: not packed by scripts/pack-orb.sh
  version=${BATON_INSTALL_VERSION:-}
  version=${version#v}
  if [ -z "$version" ]; then
    if [ -z "$pinned" ]; then
      error "this copy of the orb pins no baton version (it was not packed by scripts/pack-orb.sh): set helper_version and helper_checksums"
      return
    fi
    version=$pinned
  fi
  case "$version" in
    *[!0-9A-Za-z.+-]*)
      error "helper_version '$version' is not a version like 1.4.0"
      return
      ;;
  esac
  if [ "$version" = "$pinned" ]; then
    sums=${BATON_INSTALL_PINNED_SHA256SUMS:-}
    origin="the sums carried in this orb release"
  elif [ -n "${BATON_INSTALL_SHA256SUMS:-}" ]; then
    sums=$BATON_INSTALL_SHA256SUMS
    origin="helper_checksums"
  else
    error "helper_version $version is not the version this orb release pins (${pinned:-none}), so the orb carries no checksum for it: set helper_checksums to the lines of its SHA256SUMS (or the SHA-256 of the archive for this executor), copied from a release you have checked"
    return
  fi

  platform=$(detect_platform) || return
  archive=$(archive_name "$version" "$platform")
  expected=$(expected_sha256 "$archive" "$sums" bare)
  if [ -z "$expected" ]; then
    error "no SHA-256 for $archive in $origin: give the line for $archive (or its bare sum) in helper_checksums"
    return
  fi
  bin=baton
  case "$platform" in windows_*) bin=baton.exe ;; esac
  expected_bin=$(expected_sha256 "$(binary_entry "$version" "$platform" "$bin")" "$sums")
  dir=$(resolve_dir "${BATON_INSTALL_DIR:-~/.local/bin}") || return

  if reuse_installed "$dir/$bin" "$expected_bin" "$origin"; then
    say "baton $version is already installed in $dir (SHA-256 verified: $expected_bin): nothing to download"
    export_baton "$dir/$bin"
    return
  fi
  prepare_dir "$dir" || return
  if [ -d "$dir/$bin" ]; then
    error "$dir/$bin is a directory: remove it, or choose another install_dir"
    return
  fi

  say "Installing baton $version for ${platform/_//} into $dir"
  install_tmp=$(mktemp -d "${TMPDIR:-/tmp}/baton-install.XXXXXX") || return
  status=0
  download "${BATON_INSTALL_BASE_URL%/}/v$version/$archive" "$install_tmp/$archive" &&
    sum=$(check_sum "$install_tmp/$archive" "$expected" "$archive") &&
    say "SHA-256 verified: $sum (against $origin)" &&
    extract "$install_tmp/$archive" "$install_tmp" "$bin" &&
    { [ -z "$expected_bin" ] || check_sum "$install_tmp/$bin" "$expected_bin" "$bin in $archive" >/dev/null; } &&
    chmod 0755 "$install_tmp/$bin" &&
    check_version "$install_tmp/$bin" "$version" "$archive" &&
    mv -f "$install_tmp/$bin" "$dir/$bin" || status=$?
  cleanup
  if [ "$status" -ne 0 ]; then
    return "$status"
  fi
  say "Installed $dir/$bin: $("$dir/$bin" version)"
  export_baton "$dir/$bin"
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # The temporary directory goes on any exit, a canceled job's TERM and INT included.
  trap cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  install_baton
fi
