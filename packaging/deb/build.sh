#!/usr/bin/env bash
# Builds the Debian package from the PyInstaller folder (`make deb` calls it):
#   packaging/deb/build.sh dist/lwface-desktop VERSION dist/lwface-desktop_VERSION_amd64.deb
# Layout: the app folder in /opt/lwface-desktop/, /usr/bin/lwface-desktop a symlink to its
# executable, the menu entry and icon in /usr/share/{applications,icons}, the models' licences
# in /usr/share/doc/lwface-desktop/. No maintainer scripts: desktop-file-utils and
# hicolor-icon-theme refresh their caches through dpkg file triggers.
# Depends is worked out from the bundle itself (see below), so it follows build.spec's file list.
# DEB_COMPRESS overrides the compression (default xz level 6, see README).
set -euo pipefail
app=$(cd "$1" && pwd); version=$2; out=$3
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../.." && pwd)
compress=${DEB_COMPRESS:--Zxz -z6}
maintainer=${DEB_MAINTAINER:-lwface-desktop maintainers <maintainers@users.noreply.b-seed-48d31bbf.example>}
[[ -x $app/lwface-desktop && -d $app/_internal ]] || { echo "build.sh: $app is not the PyInstaller folder" >&2; exit 1; }

# The system libraries the bundle links but does not carry, by soname: the package that provides
# each one (directly, or through its own Depends), and the field it goes in. Anything else found
# outside the bundle is mapped with dpkg -S and goes into Depends; a library found nowhere and not
# listed here stops the build.
known_libraries() {
  cat <<'EOF'
libc.so.6 libc6 Depends
libm.so.6 libc6 Depends
libpthread.so.0 libc6 Depends
libdl.so.2 libc6 Depends
librt.so.1 libc6 Depends
libresolv.so.2 libc6 Depends
libutil.so.1 libc6 Depends
libxcb.so.1 libxcb1 Depends
libGL.so.1 libgl1 Depends
libGLX.so.0 libgl1 Depends
libGLdispatch.so.0 libgl1 Depends
libOpenGL.so.0 libopengl0 Depends
libEGL.so.1 libegl1 Depends
libwayland-client.so.0 libwayland-client0 Recommends
libwayland-cursor.so.0 libwayland-cursor0 Recommends
libwayland-egl.so.1 libwayland-egl1 Recommends
libdrm.so.2 - -
EOF
}
# (libdrm.so.2: only Qt's eglfs/linuxfb platforms for a bare console use it, never a desktop session.)

# The package owning a library file: dpkg knows each file by the path it was installed under,
# /lib or /usr/lib (merged /usr), so ask for both.
owner() {
  local real; real=$(readlink -f "$1")
  for p in "$1" "$real" "${real#/usr}" "/usr${real#/usr}"; do
    dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1 && return 0
  done
  return 0
}

work=$repo/build/deb; root=$work/root
rm -rf "$work"; mkdir -p "$work"
# Qt on X11 reads fonts through the bundled fontconfig, which needs the system's configuration
# (fontconfig-config, which also brings a font); without it the GUI logs "Fontconfig error".
depends=("fontconfig-config"); recommends=()

# 1. What the bundle's ELF files resolve outside the bundle (PyInstaller's bootloader puts
# _internal on LD_LIBRARY_PATH, so ldd gets the same view as the app).
find "$app" -type f \( -name '*.so' -o -name '*.so.*' -o -path "$app/lwface-desktop" \) > "$work/elf.txt"
LD_LIBRARY_PATH=$app/_internal xargs -a "$work/elf.txt" ldd 2>/dev/null \
  | awk -v app="$app" '$2 == "=>" && index($3, app) != 1 {print $1, $3}' | sort -u > "$work/outside.txt"
while read -r soname path; do
  entry=$(known_libraries | awk -v s="$soname" '$1 == s {print $2, $3}')
  if [[ -z $entry ]]; then
    [[ $path == not ]] && { echo "build.sh: the bundle needs $soname, found nowhere here and not mapped in packaging/deb/build.sh" >&2; exit 1; }
    pkg=$(owner "$path")
    [[ -n $pkg ]] || { echo "build.sh: no Debian package owns $path ($soname)" >&2; exit 1; }
    entry="$pkg Depends"
  fi
  read -r pkg field <<<"$entry"
  case $field in Depends) depends+=("$pkg") ;; Recommends) recommends+=("$pkg") ;; esac
done < "$work/outside.txt"

# libc6's version: the newest GLIBC_ symbol version any bundled file asks for.
glibc=$(xargs -a "$work/elf.txt" objdump -T 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1 | cut -d_ -f2) \
  || glibc=
[[ -n $glibc ]] || glibc=$(ldd --version | head -1 | grep -o '[0-9]*\.[0-9]*$')
depends_field=$(printf '%s\n' "${depends[@]}" | sort -u | sed "s/^libc6\$/libc6 (>= $glibc)/" | paste -sd, | sed 's/,/, /g')
recommends_field=$(printf '%s\n' "${recommends[@]}" | sort -u | paste -sd, | sed 's/,/, /g')

# 2. The tree. The app folder is hard-linked (same disk, no copy); install.sh and the loose
# .desktop copy are only for the tar.gz.
install -d -m 755 "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/icons/hicolor/256x256/apps" "$root/usr/share/doc/lwface-desktop" "$root/DEBIAN"
cp -al "$app" "$root/opt/lwface-desktop" 2>/dev/null || cp -a "$app" "$root/opt/lwface-desktop"
rm -f "$root/opt/lwface-desktop/install.sh" "$root/opt/lwface-desktop/lwface-desktop.desktop"
chmod -R u+rwX,go+rX,go-w "$root/opt/lwface-desktop"
ln -s /opt/lwface-desktop/lwface-desktop "$root/usr/bin/lwface-desktop"
install -m 644 "$repo/resources/lwface-desktop.desktop" "$root/usr/share/applications/"
install -m 644 "$repo/resources/icons/lwface-desktop.png" "$root/usr/share/icons/hicolor/256x256/apps/"
install -m 644 "$repo/resources/models/LICENSE-yunet.txt" "$root/usr/share/doc/lwface-desktop/"
{ cat "$here/copyright.in"
  sed -e 's/^[[:space:]]*$/./' -e 's/^/ /' "$repo/resources/models/LICENSE-yunet.txt"
} > "$root/usr/share/doc/lwface-desktop/copyright"
chmod 644 "$root/usr/share/doc/lwface-desktop/copyright"

# 3. DEBIAN/: control (Installed-Size in KiB, as dpkg-gencontrol counts it) and md5sums.
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@INSTALLED_SIZE@|$size|" \
    -e "s|@DEPENDS@|$depends_field|" -e "s|@RECOMMENDS@|$recommends_field|" "$here/control.in" \
  | { if [[ -z $recommends_field ]]; then grep -v '^Recommends: $'; else cat; fi; } > "$root/DEBIAN/control"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$(dirname "$out")"; rm -f "$out"
start=$(date +%s)
# shellcheck disable=SC2086  # $compress is two options
dpkg-deb --root-owner-group $compress --build "$root" "$out" >/dev/null
bytes=$(stat -c %s "$out")
echo "$out: $(( bytes / 1000000 )) MB ($(( bytes / 1048576 )) MiB), $compress, in $(( $(date +%s) - start )) s"
(( bytes <= 250000000 )) || { echo "build.sh: $out is over the 250 MB budget" >&2; exit 1; }
grep -E '^(Installed-Size|Depends|Recommends):' "$root/DEBIAN/control"
rm -rf "$work"
