#!/bin/sh
# Builds the Debian package (`make deb`): copies the source tree, with build/release when it
# exists so that objects already built are reused, to a scratch directory and runs
# dpkg-buildpackage -us -uc -b there (the package files land beside the tree, so never in
# the checkout). The .deb, .buildinfo and .changes go to OUTDIR (default build/deb/).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pigeon-deb.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

mkdir "$scratch/pigeon"
# cp -a keeps the sources' and objects' times, so make rebuilds only what changed.
(cd "$top" && tar --exclude=./.git --exclude=./build --exclude=./var -cf - .) |
    (cd "$scratch/pigeon" && tar -xf -)
if [ -d "$top/build/release" ]; then
    mkdir -p "$scratch/pigeon/build"
    cp -a "$top/build/release" "$scratch/pigeon/build/"
fi
(cd "$scratch/pigeon" && dpkg-buildpackage -us -uc -b -j"${DEB_JOBS:-2}")
for f in "$scratch"/pigeon_*.deb "$scratch"/pigeon_*.buildinfo "$scratch"/pigeon_*.changes; do
    [ -e "$f" ] && cp "$f" "$out/"
done
ls "$out"/pigeon_*.deb
