#!/usr/bin/env bash
# Smoke test of the built app as a user meets it: an empty environment (env -i), a fresh HOME,
# no virtualenv or Python on PATH, no network needed.
#   packaging/smoke_test.sh dist/lwface-desktop PHOTO_FOLDER      the app folder (tar.gz), and its install.sh
#   packaging/smoke_test.sh /usr/bin/lwface-desktop PHOTO_FOLDER  the app installed by the .deb, run through
#                                                                 its symlink, with its menu entry and icon
set -euo pipefail
if [[ -d $1 ]]; then
  app_dir=$(cd "$1" && pwd); app=$app_dir/lwface-desktop; installed=false
else
  app=$1; installed=true  # as given: /usr/bin/lwface-desktop stays the symlink the menu entry runs
  [[ -x $app ]] || { echo "FAIL: $app is neither the app folder nor an executable" >&2; exit 1; }
fi
photos=$(cd "$2" && pwd)
home=$(mktemp -d); xvfb=
trap '[[ -n $xvfb ]] && kill $xvfb 2>/dev/null; rm -rf "$home"' EXIT
run() { env -i HOME="$home" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen "$app" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

version=$(run --version) || fail "--version exited with $?"
echo "ok   $version"

run --self-test > "$home/self-test.txt" || { cat "$home/self-test.txt"; fail "--self-test"; }
echo "ok   self-test: $(tail -1 "$home/self-test.txt")"

people=$(run detect --detector yolov5 --json "$photos/astronaut.jpg") || fail "detect --detector yolov5"
grep -q '"label": "person"' <<<"$people" || fail "no person found with the baked-in model: $people"
echo "ok   people with the baked-in YOLOv5n: $people" | cut -c1-160

faces=$(run detect --detector cascade --json "$photos/astronaut.jpg") || fail "detect --detector cascade"
grep -q '"label": "face"' <<<"$faces" || fail "no face found: $faces"
echo "ok   faces with the cascade: $faces" | cut -c1-160

yunet=$(run detect --detector yunet --json "$photos/astronaut.jpg") || fail "detect --detector yunet"
grep -q '"label": "face"' <<<"$yunet" || fail "no face found with the baked-in YuNet: $yunet"
echo "ok   faces with the baked-in YuNet: $yunet" | cut -c1-160

blurred=$(run detect --anonymize blur --json --output "$home/blurred.jpg" "$photos/astronaut.jpg") \
  || fail "detect --anonymize blur"
grep -q '"label": "face"' <<<"$blurred" || fail "no face listed in the anonymised photo's JSON: $blurred"
[[ -s $home/blurred.jpg ]] && ! cmp -s "$home/blurred.jpg" "$photos/astronaut.jpg" || fail "no blurred photo written"
echo "ok   detect --anonymize blur wrote $(stat -c %s "$home/blurred.jpg") bytes, the face still in the JSON"

# The GUI stays up for 15 s without an error, then quits cleanly on SIGTERM.
gui() {  # gui PLATFORM [VAR=VALUE...]
  local platform=$1; shift
  (exec env -i HOME="$home" PATH=/usr/bin:/bin QT_QPA_PLATFORM="$platform" "$@" "$app" "$photos/astronaut.jpg") \
    > "$home/gui.log" 2>&1 & local pid=$!  # exec: $pid is the app itself, so the signal reaches it
  for _ in $(seq 150); do kill -0 $pid 2>/dev/null || { cat "$home/gui.log"; fail "the GUI ($platform) exited early"; }; sleep 0.1; done
  kill -TERM $pid
  local status=0; wait $pid || status=$?
  [[ $status == 0 ]] || { cat "$home/gui.log"; fail "the GUI ($platform) did not exit cleanly (status $status)"; }
  if grep -qiE "traceback|error|exception|could not" "$home/gui.log"; then cat "$home/gui.log"; fail "errors in the GUI's output ($platform)"; fi
}
gui offscreen
echo "ok   GUI up for 15 s offscreen, no errors, clean exit on SIGTERM"
# On a real X server too (Qt's xcb plugin and the system libraries it loads), when Xvfb is there.
if command -v Xvfb >/dev/null; then
  for d in $(seq 90 120); do [[ -e /tmp/.X$d-lock || -e /tmp/.X11-unix/X$d ]] || break; done
  Xvfb ":$d" -nolisten tcp -screen 0 1280x800x24 >"$home/xvfb.log" 2>&1 & xvfb=$!
  for _ in $(seq 50); do [[ -e /tmp/.X11-unix/X$d ]] && break; sleep 0.1; done
  gui xcb DISPLAY=":$d"
  echo "ok   GUI up for 15 s on X11 (Xvfb :$d), no errors, clean exit on SIGTERM"
else
  echo "skip the GUI on X11: no Xvfb here"
fi

entry_ok() {  # entry_ok DESKTOP_FILE EXEC_LINE
  grep -qxF "$2" "$1" || fail "$1 has no line $2"
  grep -qx "Icon=lwface-desktop" "$1" || fail "$1 has no Icon=lwface-desktop"
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$1" || fail "desktop-file-validate $1"
    echo "ok   desktop-file-validate $1"
  else
    echo "skip desktop-file-validate: desktop-file-utils is not installed"
  fi
}
if $installed; then
  entry_ok /usr/share/applications/lwface-desktop.desktop "Exec=lwface-desktop %f"
  [[ $(env -i PATH=/usr/bin:/bin sh -c 'command -v lwface-desktop') == /usr/bin/lwface-desktop ]] \
    || fail "lwface-desktop is not /usr/bin/lwface-desktop on the PATH the menu uses"
  [[ -s /usr/share/icons/hicolor/256x256/apps/lwface-desktop.png ]] || fail "the menu icon"
  echo "ok   the menu entry runs lwface-desktop from PATH, the icon is in hicolor/256x256"
else
  HOME="$home" "$app_dir/install.sh" >/dev/null || fail "install.sh"
  entry_ok "$home/.local/share/applications/lwface-desktop.desktop" "Exec=\"$app\" %f"
  [[ -s $home/.local/share/icons/hicolor/256x256/apps/lwface-desktop.png ]] || fail "the menu icon"
  echo "ok   install.sh puts the app into the applications menu"
fi
echo "package smoke test passed"
