#!/bin/sh
# Prints the debian/changelog of a package built from the tree: one entry for VERSION ($1), dated
# by the last commit (so two builds of one commit are identical), or now outside git.
set -e
cd "$(dirname "$0")/../.."
date=$(git log -1 --format=%cD 2>/dev/null || date -R)
printf 'lzr (%s) unstable; urgency=medium\n\n  * Built from the lzr tree at version %s.\n\n -- %s  %s\n' \
    "$1" "$1" "lzr maintainers <maintainers@users.noreply.r-seed-2972028f.example>" "$date"
