#!/bin/sh
# Prints lzr's version, in a form Debian accepts as an upstream version: the release in VERSION
# when the tree is not a git checkout (a release tarball), else `git describe` of the nearest
# release tag vX.Y.Z ("0.2.0" on the tag, "0.2.0+3.g1a2b3c4" three commits later), or, before the
# first tag, VERSION plus the commit ("0.1.0+g1a2b3c4"); "+dirty" when the work tree has changes.
cd "$(dirname "$0")/.." || exit 1
base=$(cat VERSION 2>/dev/null || echo 0.0.0)
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "$base"
    exit 0
fi
if d=$(git describe --tags --match 'v[0-9]*' --dirty=+dirty 2>/dev/null); then
    # v0.2.0-3-g1a2b3c4+dirty -> 0.2.0+3.g1a2b3c4+dirty
    echo "$d" | sed -e 's/^v//' -e 's/-\([0-9]*\)-g/+\1.g/'
    exit 0
fi
v="$base+g$(git rev-parse --short=7 HEAD)"
git diff --quiet HEAD -- 2>/dev/null || v="$v+dirty"
echo "$v"
