#!/usr/bin/env bash
# Builds the reference library `implicit` (CPU extensions only) from its source, for the benchmarks
# that measure it in the same run as edgerec (packages/trainer/benchmarks/reference/README.md).
#
#   build-implicit.sh SOURCE [TAG] [OUT]
#
# SOURCE  an implicit source tree (the folder holding implicit/), or a git directory of the
#         implicit repository (bare or not), from which TAG is exported with `git archive`.
# TAG     the git tag to build from a git directory (default v0.7.2; ignored for a source tree).
# OUT     where the importable package goes (default $EDGEREC_IMPLICIT_PATH, else
#         ~/.cache/edgerec/implicit-0.7.2). Nothing is written inside the edgerec repository.
#
# Needs (Debian packages): cython3 g++ python3-dev python3-numpy python3-scipy python3-tqdm
# python3-threadpoolctl. PYTHON (default /usr/bin/python3, Debian's, which has numpy and scipy)
# is the interpreter the extensions are built for; it is recorded in OUT/python so the benchmarks
# run the reference with it.
#
# What it does is what implicit's CMake build does for the CPU part: cythonize each .pyx to C++
# with implicit's CYTHON_FLAGS, compile with C++11, -O3 -DNDEBUG (scikit-build's Release) and
# OpenMP (-fopenmp, as implicit links OpenMP::OpenMP_CXX), with the source root on the include
# path. The CUDA extension is not built (no GPU here); implicit then runs on the CPU, as intended.
set -euo pipefail

source_arg="${1:?usage: build-implicit.sh SOURCE [TAG] [OUT]}"
tag="${2:-v0.7.2}"
out="${3:-${EDGEREC_IMPLICIT_PATH:-$HOME/.cache/edgerec/implicit-0.7.2}}"
python="${PYTHON:-/usr/bin/python3}"
cython="${CYTHON:-cython3}"
cxx="${CXX:-g++}"

for tool in "$python" "$cython" "$cxx"; do
  command -v "$tool" >/dev/null || {
    echo "build-implicit: $tool not found; install it with: apt-get install -y cython3 g++ python3-dev python3-numpy python3-scipy python3-tqdm python3-threadpoolctl" >&2
    exit 1
  }
done
"$python" -c 'import numpy, scipy, tqdm, threadpoolctl' 2>/dev/null || {
  echo "build-implicit: $python lacks numpy/scipy/tqdm/threadpoolctl; install: apt-get install -y python3-numpy python3-scipy python3-tqdm python3-threadpoolctl" >&2
  exit 1
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -d "$source_arg/implicit" ] && [ -f "$source_arg/implicit/cpu/_als.pyx" ]; then
  cp -R "$source_arg/implicit" "$work/implicit"
elif git --git-dir="$source_arg" rev-parse --verify --quiet "$tag^{commit}" >/dev/null ||
  git --git-dir="$source_arg/.git" rev-parse --verify --quiet "$tag^{commit}" >/dev/null; then
  gitdir="$source_arg"
  [ -d "$source_arg/.git" ] && gitdir="$source_arg/.git"
  git --git-dir="$gitdir" archive "$tag" implicit | tar -x -C "$work"
else
  echo "build-implicit: $source_arg is neither an implicit source tree nor a git directory with tag $tag" >&2
  exit 1
fi

version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$work/implicit/__init__.py")"
echo "build-implicit: implicit $version from $source_arg → $out (python $python)"

py_include="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
np_include="$("$python" -c 'import numpy; print(numpy.get_include())')"
suffix="$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
# scipy's .pxd files (cython_blas, cython_lapack) are cimported by _als.pyx.
site="$("$python" -c 'import os, scipy; print(os.path.dirname(os.path.dirname(scipy.__file__)))')"
cython_flags=(--cplus -3 --directive always_allow_keywords=True,binding=True,embedsignature=True,language_level=3 -I "$site" -I "$work")

# The extensions implicit's CMake builds for the CPU (implicit/CMakeLists.txt, implicit/cpu/CMakeLists.txt):
# importing implicit.cpu.als imports the package, which imports every one of them.
modules=(implicit/cpu/_als implicit/cpu/topk implicit/cpu/bpr implicit/cpu/lmf implicit/_nearest_neighbours implicit/evaluation)
pids=()
for module in "${modules[@]}"; do
  (
    PYTHONWARNINGS=ignore "$cython" "${cython_flags[@]}" "$work/$module.pyx" -o "$work/$module.cpp"
    "$cxx" -O3 -DNDEBUG -std=c++11 -fPIC -shared -fopenmp -w \
      -I"$work" -I"$py_include" -I"$np_include" \
      "$work/$module.cpp" -o "$work/$module$suffix"
    echo "build-implicit: built $module$suffix"
  ) &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

rm -rf "$out"
mkdir -p "$out"
(cd "$work" && find implicit \( -name '*.py' -o -name "*$suffix" \) -exec install -D -m 0644 {} "$out/{}" \;)
echo "$python" >"$out/python"
echo "$version" >"$out/version"

PYTHONPATH="$out" "$python" -c 'import implicit, implicit.cpu.als; print("build-implicit: import implicit.cpu.als OK, implicit", implicit.__version__)'
