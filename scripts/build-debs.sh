#!/usr/bin/env bash
# Builds the Debian packages ejabberd-mod-unread and chatadm from this tree
# (debian/, dpkg-buildpackage -us -uc -b, tests off).
#
#   scripts/build-debs.sh [OUTDIR]   OUTDIR (default build-debs/) becomes a
#                                    flat apt repository: the two .debs,
#                                    Packages and Packages.gz, for
#                                    "deb [trusted=yes] file:OUTDIR ./"
#
# The version is debian/changelog's plus the commit: 0.1.0+git<commits>.g<hash>,
# and .d<UTC time> after it when the tree has uncommitted changes, so that
# every later build sorts higher and `apt-get install`/Puppet upgrade to it.
# A tree identical to the one OUTDIR was last built from is not built
# again. The build happens in a copy of the tree (tracked and
# untracked, not ignored, files), never in the tree itself.
#
# Needs the build dependencies of debian/control (scripts/install-deps.sh
# installs them: dpkg-dev, debhelper, cmake, erlang-dev, ejabberd, ...).
# CHATADM_BUILD_JOBS sets the parallel jobs (default: nproc).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
outdir=$(realpath -m "${1:-$repo/build-debs}")
jobs=${CHATADM_BUILD_JOBS:-$(nproc)}

cd "$repo"
base=$(dpkg-parsechangelog -l debian/changelog -S Version)

# The files that make up the tree (without build trees, caches, VCS data).
files() {
    if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$repo" ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done
    else
        find . -type f ! -path './.git/*' ! -path './.vagrant/*' ! -path './build*' \
            ! -path '*/__pycache__/*' -printf '%P\0'
    fi
}
source_id=$(files | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)

mkdir -p "$outdir"
if [ -f "$outdir/source-id" ] && [ "$(cat "$outdir/source-id")" = "$source_id" ] &&
    [ -f "$outdir/Packages" ]; then
    echo "build-debs: $outdir is up to date with this tree"
    exit 0
fi

if git rev-parse --git-dir >/dev/null 2>&1; then
    version="$base+git$(git rev-list --count HEAD).g$(git rev-parse --short=8 HEAD)"
    [ -z "$(git status --porcelain --untracked-files=normal)" ] ||
        version="$version.d$(date -u +%Y%m%d%H%M%S)"
else
    version="$base+d$(date -u +%Y%m%d%H%M%S)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/chatadm-$version
mkdir "$src"
files | tar -C "$repo" --null -T - -cf - | tar -C "$src" -xf -
# A changelog entry for this build (the packages' version comes from it).
{
    printf 'chatadm (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * Built from the source tree by scripts/build-debs.sh.\n\n'
    printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -l debian/changelog -S Maintainer)" "$(date -uR)"
    cat debian/changelog
} >"$src/debian/changelog"

echo "build-debs: building $version"
(cd "$src" && DEB_BUILD_OPTIONS="noddebs parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -us -uc -b)

debs=("$work"/*.deb)
# The repository holds this build only: older versions would only make
# apt's choice depend on version order.
rm -f "$outdir"/ejabberd-mod-unread_*.deb "$outdir"/chatadm_*.deb
cp "${debs[@]}" "$outdir/"
(cd "$outdir" && dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null &&
    gzip -9nkf Packages)
echo "$source_id" >"$outdir/source-id"
echo "build-debs: $version in $outdir (deb [trusted=yes] file:$outdir ./)"
ls -l "$outdir"/*.deb
