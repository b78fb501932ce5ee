#!/bin/sh
# Puts lwface-desktop into your desktop's application menu. Run it from the unpacked folder:
#   ./install.sh            (undo: ./install.sh --remove)
set -e
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
desktop=$data/applications/lwface-desktop.desktop
icon=$data/icons/hicolor/256x256/apps/lwface-desktop.png
if [ "${1:-}" = "--remove" ]; then
  rm -f "$desktop" "$icon"
  echo "lwface-desktop was removed from the applications menu (this folder is left as it is)."
  exit 0
fi
mkdir -p "$(dirname "$desktop")" "$(dirname "$icon")"
cp "$here/_internal/resources/icons/lwface-desktop.png" "$icon"
sed "s|^Exec=.*|Exec=\"$here/lwface-desktop\" %f|" "$here/lwface-desktop.desktop" > "$desktop"
echo "lwface-desktop is now in your applications menu (Graphics). It runs from $here."
