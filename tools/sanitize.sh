#!/usr/bin/env bash
# Build heatcore's C++ extension with AddressSanitizer + UndefinedBehaviorSanitizer into a separate
# build directory and run the kernel tests (and tests/fuzz/ when present) against it.
#
#   bash tools/sanitize.sh                 # uses `python` from PATH (e.g. an activated venv)
#   PYTHON=/path/to/python bash tools/sanitize.sh [extra pytest args]
#
# The normal install is not touched: the sanitized _core goes to build-asan/site/heatcore/ next to
# symlinks of python/heatcore/*, and build-asan/site is put first on PYTHONPATH (its
# sitecustomize.py also disables an editable install's import redirect for heatcore). Python itself
# is not instrumented, so GCC's libasan is preloaded; leak checking is off (CPython keeps memory
# until exit by design). Every UBSan finding aborts the run (-fno-sanitize-recover). The last line
# is a summary: "sanitize: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
py=${PYTHON:-python}
build=${HEATCORE_ASAN_BUILD:-$root/build-asan}
site=$build/site
t0=$(date +%s)

# Build tools (PyPI packages; `pip install .` keeps them in its isolated build environment only).
if ! "$py" -c "import pybind11" 2>/dev/null || ! "$py" -m cmake --version >/dev/null 2>&1 \
   || ! "$py" -m ninja --version >/dev/null 2>&1; then
  "$py" -m pip install --quiet "pybind11>=2.13" "cmake>=3.27" ninja
fi
cmake_bin=$("$py" -c "import cmake, os; print(os.path.join(cmake.CMAKE_BIN_DIR, 'cmake'))")
ninja_bin=$("$py" -c "import ninja, os; print(os.path.join(ninja.BIN_DIR, 'ninja'))")

cxx=${CXX:-g++}
libasan=$("$cxx" -print-file-name=libasan.so)
# libstdc++ preloaded too: ASan resolves the real __cxa_throw when it starts, and CPython does not
# link libstdc++ (without it the first C++ exception aborts in ASan's interceptor)
libstdcxx=$("$cxx" -print-file-name=libstdc++.so)
if [ ! -e "$libasan" ] || [ ! -e "$libstdcxx" ]; then
  echo "sanitize: error: $cxx has no libasan.so / libstdc++.so (install gcc's libasan)" >&2
  exit 2
fi

# 1. the extension, -O1 with ASan + UBSan, written straight into $site/heatcore
mkdir -p "$site/heatcore"
log=$build/build.log
"$cmake_bin" -S "$root" -B "$build" -G Ninja -DCMAKE_MAKE_PROGRAM="$ninja_bin" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEATCORE_SANITIZE=ON \
  -DPython_EXECUTABLE="$("$py" -c 'import sys; print(sys.executable)')" \
  -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$site/heatcore" >"$log" 2>&1 \
  || { tail -30 "$log" >&2; exit 1; }
"$cmake_bin" --build "$build" --target _core -j "${SANITIZE_JOBS:-2}" >>"$log" 2>&1 \
  || { tail -40 "$log" >&2; exit 1; }

# 2. the package: symlinks to the sources, the sanitized _core beside them
for entry in "$root"/python/heatcore/*; do
  name=$(basename "$entry")
  case "$name" in _core*.so|_core*.pyd|__pycache__) continue ;; esac
  ln -sfn "$entry" "$site/heatcore/$name"
done
cat >"$site/sitecustomize.py" <<'PY'
# tools/sanitize.sh: import heatcore from this folder even where an editable install redirects it.
import sys

sys.meta_path[:] = [f for f in sys.meta_path if "heatcore" not in type(f).__module__]
PY

# 3. the tests (--capture=sys: sanitizer reports written to fd 2 stay visible when a test aborts)
tests=(tests/test_kde_core.py tests/test_motion_kernels.py tests/test_mog_simd.py tests/test_mog2.py tests/test_grid.py tests/test_homography.py)
[ -d tests/fuzz ] && tests+=(tests/fuzz)
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
run() { LD_PRELOAD="$libasan:$libstdcxx${LD_PRELOAD:+:$LD_PRELOAD}" "$py" "$@"; }
core=$(run -c "import heatcore._core as c; print(c.__file__)")
case "$core" in
  "$site"/*) ;;
  *) echo "sanitize: error: imported $core, not the sanitized build in $site" >&2; exit 1 ;;
esac
echo "sanitize: build $(( $(date +%s) - t0 )) s, module $core"
status=0
rm -f "$build/junit.xml"
run -m pytest -q -p no:cacheprovider --capture=sys --junitxml="$build/junit.xml" "${tests[@]}" "$@" || status=$?
summary=$("$py" - "$build/junit.xml" "$status" 2>/dev/null <<'PY' || echo "0 passed, 1 failed"
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
n = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
if int(sys.argv[2]) != 0 and bad == 0:
    bad = 1  # pytest itself failed (e.g. no test collected)
print(f"{max(0, n - bad - skipped)} passed, {bad} failed, {skipped} skipped")
PY
)
echo "sanitize: ASan+UBSan (-O1), $(( $(date +%s) - t0 )) s in total, pytest exit $status"
echo "sanitize: $summary"
exit "$status"
