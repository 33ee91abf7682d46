# Sourced by scripts/fuzz.sh and scripts/sanitize.sh: the one way to configure a clang build
# with sanitizers, so that both scripts can share build-asan.
#   clang_build_check             : exit 77, with the reason, without clang or its runtimes
#   clang_build_configure DIR SAN : configure DIR with clang and -fsanitize=SAN (address:
#                                   address,undefined plus the libFuzzer targets; thread)
# Flags: -O1 -g1 (line tables: file:line in reports through llvm-symbolizer, package llvm; a
# quicker build than -g); ccache when present.

clang_build_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

clang_build_check() {  # <runtime to link: fuzzer,address or thread>
  if ! command -v clang++ >/dev/null; then
    echo "skipped: clang++ is not installed (scripts/setup.sh installs clang and libclang-rt-14-dev)"
    exit 77
  fi
  local probe
  probe=$(mktemp -d)
  if [ "$1" = fuzzer,address ]; then
    printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
      'extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }' >"$probe/p.cc"
  else
    printf '%s\n' 'int main() { return 0; }' >"$probe/p.cc"
  fi
  if ! clang++ -fsanitize="$1" "$probe/p.cc" -o "$probe/p" 2>"$probe/err"; then
    echo "skipped: clang++ cannot link -fsanitize=$1 (install libclang-rt-14-dev):"
    head -5 "$probe/err"
    rm -rf "$probe"
    exit 77
  fi
  rm -rf "$probe"
}

clang_build_configure() {  # <build dir> <address|thread>
  local dir=$1 sanitize fuzz=OFF launcher=()
  case $2 in
    address) sanitize=address,undefined fuzz=ON ;;
    thread) sanitize=thread ;;
    *) echo "clang_build: unknown sanitizer '$2' (address or thread)" >&2; return 2 ;;
  esac
  # ccache with paths relative to the root, so that another clone (CI's) hits the cache too.
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$clang_build_root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
  fi
  mkdir -p "$dir"
  cmake -S "$clang_build_root" -B "$dir" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DEDGEBENCH_SANITIZE="$sanitize" -DEDGEBENCH_FUZZ="$fuzz" "${launcher[@]}" \
    >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; return 1; }
}
