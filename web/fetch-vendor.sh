#!/bin/sh
# fetch-vendor.sh [DEST]: puts the third-party files of the API reference
# pages (/api/docs/ = Swagger UI, /api/redoc/ = Redoc) into DEST (default:
# web/vendor/ beside this script, git-ignored).
#
# The files come from the npm registry, through npm itself, at pinned
# versions whose tarball integrity is checked below; only the four files
# the pages load (and the packages' licence texts) are copied. Nothing is
# fetched at run time: the pages load them from <mount>/api/vendor/.
#
# Idempotent: when DEST already holds this exact set (vendor.stamp), it
# does nothing. Needs npm and tar. Exit status 0 on success.
set -eu

SWAGGER_UI_VERSION=5.35.0
SWAGGER_UI_SRI=sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
REDOC_VERSION=2.5.4
REDOC_SRI=sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/vendor}
stamp="swagger-ui-dist@$SWAGGER_UI_VERSION redoc@$REDOC_VERSION"
files="swagger-ui.css swagger-ui-bundle.js swagger-ui-standalone-preset.js
 redoc.standalone.js"

complete() {
    [ -f "$dest/vendor.stamp" ] || return 1
    [ "$(cat "$dest/vendor.stamp")" = "$stamp" ] || return 1
    for f in $files; do
        [ -s "$dest/$f" ] || return 1
    done
}

if complete; then
    exit 0
fi
command -v npm >/dev/null 2>&1 || {
    echo "fetch-vendor.sh: npm not found (Debian: apt-get install npm)" >&2
    exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/carinfo-vendor.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# npm pack downloads the registry tarball (verifying the registry's own
# integrity) without installing anything or running any package script.
# Its stdout lists one "<name>-<version>.tgz" per package; the integrity
# lines go to stderr as npm notices, so it is checked here from the file.
pack() {  # name version expected-sri
    (cd "$tmp" && npm pack --silent --ignore-scripts "$1@$2" >/dev/null)
    tgz="$tmp/$(echo "$1" | sed 's|^@||; s|/|-|')-$2.tgz"
    [ -f "$tgz" ] || { echo "fetch-vendor.sh: npm pack $1@$2 made no $tgz" >&2; exit 1; }
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    if [ "$got" != "$3" ]; then
        echo "fetch-vendor.sh: $1@$2: integrity $got, expected $3" >&2
        exit 1
    fi
    mkdir -p "$tmp/$1"
    tar -xzf "$tgz" -C "$tmp/$1"
}

pack swagger-ui-dist "$SWAGGER_UI_VERSION" "$SWAGGER_UI_SRI"
pack redoc "$REDOC_VERSION" "$REDOC_SRI"

mkdir -p "$dest"
new="$dest/.new.$$"
rm -rf "$new"
mkdir "$new"
s="$tmp/swagger-ui-dist/package"
r="$tmp/redoc/package"
cp "$s/swagger-ui.css" "$s/swagger-ui-bundle.js" \
   "$s/swagger-ui-standalone-preset.js" "$new/"
cp "$r/bundles/redoc.standalone.js" "$new/"
cp "$s/LICENSE" "$new/swagger-ui-LICENSE.txt"
[ -f "$s/NOTICE" ] && cp "$s/NOTICE" "$new/swagger-ui-NOTICE.txt"
cp "$r/LICENSE" "$new/redoc-LICENSE.txt"
# the licences of what the bundles contain
cp "$s/swagger-ui-bundle.js.LICENSE.txt" "$s/swagger-ui-standalone-preset.js.LICENSE.txt" \
   "$r/bundles/redoc.standalone.js.LICENSE.txt" "$new/"
# The bundles name source maps that are not shipped: drop the reference so
# browsers' developer tools do not ask for them (a 404 per page view).
# Only a trailing comment on the last line: the same text inside the code
# (Redoc's worker source) must stay.
for f in "$new"/*.js "$new"/*.css; do
    sed -i -e '$s|^//# sourceMappingURL=[^ ]*$||' \
           -e '$s|/\*# sourceMappingURL=[^*]*\*/$||' "$f"
done
# Redoc's sidebar shows "API docs by Redocly" with a logo image from its
# CDN, unconditionally. The page must load nothing from another host (and
# its CSP would refuse it, with a console error): the image source becomes
# an empty data: URL, which fails to load, and Redoc then drops the <img>
# (its onError) and keeps the text link.
sed -i 's|https://cdn\.redoc\.ly/redoc/logo-mini[a-z-]*\.svg|data:,|g' \
    "$new/redoc.standalone.js"
if grep -q 'https://cdn\.' "$new/redoc.standalone.js"; then
    echo "fetch-vendor.sh: redoc.standalone.js still loads from a CDN:" >&2
    grep -o 'https://cdn\.[^"]*' "$new/redoc.standalone.js" >&2
    exit 1
fi
echo "$stamp" > "$new/vendor.stamp"
chmod 644 "$new"/*
for f in "$new"/*; do
    mv -f "$f" "$dest/"
done
rmdir "$new"
echo "fetch-vendor.sh: $stamp -> $dest"
