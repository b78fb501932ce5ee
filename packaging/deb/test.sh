#!/usr/bin/env bash
# The .deb as a Debian user meets it (`make package-test` runs it; needs root):
#   packaging/deb/test.sh dist/lwface-desktop_VERSION_amd64.deb PHOTO_FOLDER
# installs it with apt (its Depends from Debian), smoke-tests the installed app through
# /usr/bin/lwface-desktop, checks that running it wrote nothing into /opt, removes it with apt and
# checks that every file it installed is gone. A copy installed before the test is removed first;
# the package is never left installed, whether the test passes or fails.
set -euo pipefail
deb=$1; photos=$2
[[ $deb == /* || $deb == ./* ]] || deb=./$deb  # apt-get takes a local file only as a path
[[ -f $deb ]] || { echo "FAIL: no $deb (make deb)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "FAIL: installing the .deb needs root" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
tmp=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
status() { dpkg-query -W -f='${db:Status-Status}' lwface-desktop 2>/dev/null || true; }
installed() { local s; s=$(status); [[ -n $s && $s != not-installed ]]; }
remove() { apt-get remove -y -q "$@" lwface-desktop > "$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log"; return 1; }; }
cleanup() { if installed; then echo "removing lwface-desktop after the failed test"; remove --purge || true; fi; rm -rf "$tmp"; }
trap cleanup EXIT
# apt-get update only when the package lists are empty or an install fails (a fresh CI machine).
apt_install() {
  compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null || apt-get update -q >/dev/null
  apt-get install -y -q "$@" > "$tmp/install.log" 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q "$@" > "$tmp/install.log" 2>&1; } \
    || { cat "$tmp/install.log"; return 1; }
}

if installed; then
  echo "lwface-desktop $(dpkg-query -W -f='${Version}' lwface-desktop) is installed: removing it first"
  remove --purge || fail "could not remove the lwface-desktop installed before the test"
fi
# desktop-file-validate, for the menu entry: a test tool, kept if it could be installed.
command -v desktop-file-validate >/dev/null || apt_install --no-install-recommends desktop-file-utils \
  || echo "could not install desktop-file-utils: the menu entry is checked without desktop-file-validate"

start=$(date +%s)
apt_install "$deb" || fail "apt-get install $deb"
version=$(dpkg-query -W -f='${Version}' lwface-desktop)
echo "ok   apt-get install $deb: lwface-desktop $version installed in $(( $(date +%s) - start )) s" \
     "($(dpkg-query -W -f='${Installed-Size}' lwface-desktop) KiB; Depends: $(dpkg-query -W -f='${Depends}' lwface-desktop))"
grep -E "^Processing triggers for (desktop-file-utils|hicolor-icon-theme)" "$tmp/install.log" | sed 's/^/     /' || true
dpkg -L lwface-desktop | sort > "$tmp/files.txt"
[[ $(readlink /usr/bin/lwface-desktop) == /opt/lwface-desktop/lwface-desktop ]] || fail "/usr/bin/lwface-desktop is not the symlink"
for f in /usr/share/doc/lwface-desktop/copyright /usr/share/doc/lwface-desktop/LICENSE-yunet.txt; do
  [[ -s $f ]] || fail "no $f"
done
grep -q "^License: AGPL-3.0" /usr/share/doc/lwface-desktop/copyright || fail "the copyright file does not name YOLOv5's AGPL-3.0"
echo "ok   /usr/bin/lwface-desktop -> /opt/lwface-desktop/lwface-desktop, the models' licences in /usr/share/doc/lwface-desktop"

bash "$here/../smoke_test.sh" /usr/bin/lwface-desktop "$photos"

# Running the app must not have written into its folder (a __pycache__ would outlive the package).
find /opt/lwface-desktop | sort | comm -23 - "$tmp/files.txt" > "$tmp/stray.txt"
[[ ! -s $tmp/stray.txt ]] || { head "$tmp/stray.txt"; fail "$(wc -l < "$tmp/stray.txt") files in /opt/lwface-desktop that the package did not install"; }
echo "ok   nothing in /opt/lwface-desktop but the package's $(grep -c '^/opt/lwface-desktop' "$tmp/files.txt") entries"

remove || fail "apt-get remove lwface-desktop"
! installed || fail "dpkg still lists lwface-desktop after apt-get remove: $(status)"
# Every file it installed is gone, and its own folders; shared folders (/usr/share/icons/...) stay.
while read -r path; do
  if [[ -L $path || -f $path ]] || { [[ -d $path ]] && [[ $path == /opt/lwface-desktop* || $path == /usr/share/doc/lwface-desktop* ]]; }; then
    echo "$path"
  fi
done < "$tmp/files.txt" > "$tmp/left.txt"
[[ ! -s $tmp/left.txt ]] || { head "$tmp/left.txt"; fail "$(wc -l < "$tmp/left.txt") of its paths are left after apt-get remove"; }
if [[ -f /usr/share/applications/mimeinfo.cache ]] && grep -q lwface-desktop /usr/share/applications/mimeinfo.cache; then
  fail "/usr/share/applications/mimeinfo.cache still names lwface-desktop"
fi
echo "ok   apt-get remove: all $(wc -l < "$tmp/files.txt") paths of dpkg -L are gone (files, symlink, /opt/lwface-desktop, the docs)"
echo "deb install/remove test passed"
