# Tests of scripts/check-tracked-files.sh in a repository of their own: what is staged there
# (the index, not the work tree) decides, and every binary format named is refused.

setup() {
  REPO="$BATS_TEST_TMPDIR/repo"
  mkdir -p "$REPO/scripts"
  cp "$BATS_TEST_DIRNAME/../check-tracked-files.sh" "$REPO/scripts/"
  cd "$REPO" || return
  git init -q
  git config user.email test@example.com
  git config user.name test
  printf '# A project\n' >README.md
  printf 'package main\n\nfunc main() {}\n' >main.go
  git add .
  git commit -qm "text only"
}

check() {
  run "$REPO/scripts/check-tracked-files.sh"
}

# stage NAME HEX... writes the bytes HEX (then NULs and text, as a real header would have) to
# NAME and stages it.
stage() {
  local name=$1
  shift
  printf '%s' "$@" | xxd_r >"$name"
  printf '\0\0\0\0some more content\0' >>"$name"
  git add "$name"
}

# xxd_r turns hex on stdin into bytes, with printf only (xxd is not everywhere).
xxd_r() {
  local hex
  hex=$(cat)
  # shellcheck disable=SC2059 # the format is the bytes, built here
  printf "$(printf '%s' "$hex" | sed 's/../\\x&/g')"
}

@test "a tree of text files passes" {
  check
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "every compiled or archive format staged is refused, named by its format" {
  while read -r name hex kind; do
    git reset -q
    rm -f -- *.bin
    stage "$name" "$hex"
    check
    [ "$status" -eq 1 ] || { echo "$name was not refused: $output"; return 1; }
    [[ $output == *"tracked binary file: $name, ${kind//_/ };"* ]] || { echo "$name: $output"; return 1; }
  done <<'CASES'
elf.bin 7f454c4602010100 an_ELF_executable_or_library
macho64.bin cffaedfe0c000001 a_Mach-O_executable
macho32.bin cefaedfe07000000 a_Mach-O_executable
macho-be.bin feedfacf01000007 a_Mach-O_executable
universal.bin cafebabe00000002 a_universal_Mach-O_executable_or_a_Java_class
pe.bin 4d5a900003000000 a_Windows_(PE)_executable
wasm.bin 0061736d01000000 a_WebAssembly_module
lib.bin 213c617263683e0a an_ar_archive_(a_static_library_or_.deb)
gz.bin 1f8b080000000000 a_gzip_archive
zip.bin 504b030414000000 a_zip_archive
xz.bin fd377a585a000004 an_xz_archive
zst.bin 28b52ffd00000000 a_zstd_archive
bz2.bin 425a683931415926 a_bzip2_archive
7z.bin 377abcaf271c0004 a_7-Zip_archive
data.bin 0001020304050607 binary_data
CASES
}

@test "a real executable and a real release archive are refused" {
  cp "$(type -P true)" true-copy
  tar -czf release.tar.gz README.md
  git add true-copy release.tar.gz
  check
  [ "$status" -eq 1 ]
  [[ $output == *"tracked binary file: release.tar.gz, a gzip archive;"* ]]
  [[ $output == *"tracked binary file: true-copy, an ELF executable or library;"* ]] || [[ $output == *"true-copy, a Mach-O"* ]]
}

@test "a binary staged and then deleted from the work tree is still refused: the commit would hold it" {
  stage baton 7f454c4602010100
  rm baton
  check
  [ "$status" -eq 1 ]
  [[ $output == *"tracked binary file: baton, an ELF executable or library;"* ]]
}

@test "a binary in the work tree but not staged is not git's business" {
  stage baton 7f454c4602010100
  git rm -q --cached baton
  [ -f baton ]
  check
  [ "$status" -eq 0 ]
}

@test "a text file over 1 MiB is refused with its size" {
  head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >big.txt
  git add big.txt
  check
  [ "$status" -eq 1 ]
  [[ $output == *"tracked file over 1 MiB: big.txt (1048577 bytes)"* ]]
}

@test "a symbolic link to a binary is a link, which git stores as text" {
  ln -s "$(type -P true)" true-link
  git add true-link
  check
  [ "$status" -eq 0 ]
}

@test "a file name with spaces is named whole" {
  stage "my build.bin" 7f454c4602010100
  check
  [ "$status" -eq 1 ]
  [[ $output == *"tracked binary file: my build.bin, an ELF"* ]]
}
