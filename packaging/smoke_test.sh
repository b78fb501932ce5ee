#!/usr/bin/env bash
# Smoke test of the built app as a user meets it: an empty environment (env -i), a fresh HOME,
# no virtualenv or Python on PATH, no network needed.
#   packaging/smoke_test.sh dist/lwface-desktop PHOTO_FOLDER
set -euo pipefail
app_dir=$(cd "$1" && pwd); photos=$(cd "$2" && pwd)
app=$app_dir/lwface-desktop
home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
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
(exec env -i HOME="$home" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen "$app" "$photos/astronaut.jpg") \
  > "$home/gui.log" 2>&1 & gui=$!  # exec: $gui is the app itself, so the signal reaches it
for _ in $(seq 150); do kill -0 $gui 2>/dev/null || { cat "$home/gui.log"; fail "the GUI exited early"; }; sleep 0.1; done
kill -TERM $gui
status=0; wait $gui || status=$?
[[ $status == 0 ]] || { cat "$home/gui.log"; fail "the GUI did not exit cleanly (status $status)"; }
if grep -qiE "traceback|error|exception" "$home/gui.log"; then cat "$home/gui.log"; fail "errors in the GUI's output"; fi
echo "ok   GUI up for 15 s offscreen, no errors, clean exit on SIGTERM"
HOME="$home" "$app_dir/install.sh" >/dev/null || fail "install.sh"
grep -qx "Exec=\"$app\" %f" "$home/.local/share/applications/lwface-desktop.desktop" || fail "the menu entry"
[[ -s $home/.local/share/icons/hicolor/256x256/apps/lwface-desktop.png ]] || fail "the menu icon"
echo "ok   install.sh puts the app into the applications menu"
echo "package smoke test passed"
