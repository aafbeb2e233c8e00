#!/usr/bin/env bash
# The install command's step: put a verified baton on PATH. Every input comes from the step's
# environment (see commands/install.yml):
#   BATON_INSTALL_VERSION            the version asked for; empty means the pinned one
#   BATON_INSTALL_SHA256SUMS         sums for a version other than the pinned one
#   BATON_INSTALL_DIR                where the binary goes; a leading ~ is $HOME
#   BATON_INSTALL_BASE_URL           archives are at BASE/vVERSION/ARCHIVE
#   BATON_INSTALL_PINNED_VERSION     filled in by scripts/pack-orb.sh
#   BATON_INSTALL_PINNED_SHA256SUMS  filled in by scripts/pack-orb.sh
# Sourcing this file, as the bats tests do, only defines the functions.

download_attempts=4

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

# expected_sha256 ARCHIVE SUMS prints ARCHIVE's sum from SUMS, lines of "SHA256  NAME" as in a
# SHA256SUMS file; a single bare sum in SUMS counts for any archive. Prints nothing if absent.
expected_sha256() {
  printf '%s\n' "$2" | awk -v archive="$1" '
    function is_sum(s) { return length(s) == 64 && s !~ /[^0-9A-Fa-f]/ }
    { sub(/\r$/, "") }
    NF == 2 && is_sum($1) {
      name = $2
      sub(/^\*/, "", name)
      if (name == archive && !found) { found = tolower($1) }
    }
    NF == 1 && is_sum($1) { bare = tolower($1); bares++ }
    END {
      if (found != "") print found
      else if (bares == 1) print bare
    }'
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

# fetch URL FILE downloads once, with curl or else wget.
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --connect-timeout 20 --max-time 300 --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -T 60 -O "$2" "$1"
  else
    error "neither curl nor wget is installed: add one to the executor image"
  fi
}

# download URL FILE fetches URL, retrying failures with a growing pause.
download() {
  local attempt=1 pause=1
  while :; do
    rm -f "$2"
    if fetch "$1" "$2"; then
      return 0
    fi
    if [ "$attempt" -ge "$download_attempts" ]; then
      error "could not download $1 after $attempt attempts"
      return
    fi
    say "Download failed (attempt $attempt of $download_attempts); retrying in ${pause}s"
    sleep "$pause"
    attempt=$((attempt + 1))
    pause=$((pause * 2))
  done
}

# resolve_dir DIR prints DIR as an absolute path, with a leading ~ replaced by $HOME.
resolve_dir() {
  local dir=$1
  # shellcheck disable=SC2088 # a literal ~ from the parameter, replaced here
  case "$dir" in
    "~") dir=$HOME ;;
    "~/"*) dir=$HOME/${dir#"~/"} ;;
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

# extract ARCHIVE DIR MEMBER unpacks MEMBER of ARCHIVE into DIR.
extract() {
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
  if [ ! -f "$2/$3" ]; then
    error "$1 holds no $3"
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

# add_to_path DIR makes later steps find DIR's programs, through $BASH_ENV.
add_to_path() {
  case ":$PATH:" in
    *":$1:"*) return 0 ;;
  esac
  if [ -z "${BASH_ENV:-}" ]; then
    say "BASH_ENV is not set, so later steps cannot be told: add $1 to PATH yourself"
    return 0
  fi
  # shellcheck disable=SC2016 # $PATH is expanded when $BASH_ENV is sourced
  printf 'export PATH=%q:"$PATH"\n' "$1" >>"$BASH_ENV"
}

# fetch_verified URL FILE EXPECTED SOURCE downloads the archive and checks its SHA-256
# against EXPECTED, which came from SOURCE.
fetch_verified() {
  local actual
  download "$1" "$2" || return
  actual=$(sha256_of "$2") || return
  if [ "$actual" != "$3" ]; then
    error "checksum mismatch for ${2##*/}: expected $3, got $actual; refusing to install it (the download is corrupt or was tampered with)"
    return
  fi
  say "SHA-256 verified: $actual (against $4)"
}

# install_baton is the step: choose the version and its sums, then download, verify and
# install, unless that version is already installed.
install_baton() {
  local version pinned sums origin platform archive expected dir bin tmp status
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
  expected=$(expected_sha256 "$archive" "$sums")
  if [ -z "$expected" ]; then
    error "no SHA-256 for $archive in $origin: give the line for $archive (or its bare sum) in helper_checksums"
    return
  fi
  bin=baton
  case "$platform" in windows_*) bin=baton.exe ;; esac
  dir=$(resolve_dir "${BATON_INSTALL_DIR:-~/.local/bin}")

  if [ "$(installed_version "$dir/$bin")" = "$version" ]; then
    say "baton $version is already installed in $dir: nothing to download"
    add_to_path "$dir"
    return
  fi
  prepare_dir "$dir" || return

  say "Installing baton $version for ${platform/_//} into $dir"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/baton-install.XXXXXX") || return
  status=0
  fetch_verified "${BATON_INSTALL_BASE_URL%/}/v$version/$archive" "$tmp/$archive" "$expected" "$origin" &&
    extract "$tmp/$archive" "$tmp" "$bin" &&
    chmod 0755 "$tmp/$bin" &&
    check_version "$tmp/$bin" "$version" "$archive" &&
    mv -f "$tmp/$bin" "$dir/$bin" || status=$?
  rm -rf "$tmp"
  if [ "$status" -ne 0 ]; then
    return "$status"
  fi
  say "Installed $dir/$bin: $("$dir/$bin" version)"
  add_to_path "$dir"
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  install_baton
fi
