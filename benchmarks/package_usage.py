"""What the packaged app opens against what its folder holds, to see what could be left out.

    python benchmarks/package_usage.py dist/lwface-desktop benchmarks/photos [--x11] [--keep DIR]

Runs the package smoke test's commands (version, self-test, detect with each detector, blur),
the live path (`video` on a short clip with yolov5, yunet and faces+people; `gui --source`) and
the GUI for 15 s offscreen (and with --x11 on a real X server under Xvfb, with the xcb plugin,
and Qt's file dialog opened with xdotool where it is installed),
each under `strace -f -y` (openat, open, the stat calls, execve and mmap; successful calls only).
Then it lists the folder's files by size that no run opened, and the libraries that were opened
but never loaded (Qt reads every plugin's metadata; only ld.so maps with MAP_DENYWRITE). A file
listed is not proof that it can go: a library some path not run here needs is listed too; test
each exclusion with the smoke test.
Needs strace (and Xvfb for --x11); the clip is written with this venv's OpenCV.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSCALLS = "openat,open,stat,newfstatat,statx,lstat,access,execve,mmap"
LINE = re.compile(r'^\d+\s+(\w+)\((?:(?:AT_FDCWD|\d+)(?:<[^>]*>)?, )?"([^"]*)"')
LOADED = re.compile(r'^\d+\s+mmap\(.*MAP_DENYWRITE.*, \d+<([^>]+)>')  # ld.so mapping a library
GUI_SECONDS = 15


def scenarios(photos: Path, clip: Path, out: Path) -> list[tuple[str, list[str], bool, str]]:
    """(name, arguments, runs until SIGTERM, the app's settings file) for each run."""
    photo, video = str(photos / "astronaut.jpg"), str(clip)
    objects = "[detect]\nkind=yolov5\n[view]\nhide_faces=blur\nlandmarks=true\n"
    return [
        ("version", ["--version"], False, ""),
        ("self-test", ["--self-test"], False, ""),
        ("detect yolov5", ["detect", "--detector", "yolov5", "--json", photo], False, ""),
        ("detect cascade", ["detect", "--detector", "cascade", "--json", photo], False, ""),
        ("detect yunet", ["detect", "--detector", "yunet", "--json", photo], False, ""),
        ("detect blur", ["detect", "--anonymize", "blur", "--json", "--output", str(out / "b.jpg"), "--overwrite",
                         photo], False, ""),
        ("video yolov5", ["video", video, "--detector", "yolov5", "--output", str(out / "y.mp4"),
                          "--jsonl", str(out / "y.jsonl"), "--overwrite"], False, ""),
        ("video yunet", ["video", video, "--detector", "yunet", "--anonymize", "blur",
                         "--output", str(out / "u.avi"), "--overwrite"], False, ""),
        ("video faces+people", ["video", video, "--detector", "faces+people", "--output", str(out / "f.mkv"),
                                "--jsonl", str(out / "f.jsonl"), "--overwrite"], False, ""),
        ("gui photo", [photo], True, ""),
        ("gui photo yolov5 blur", [photo], True, objects),
        ("gui live", ["gui", "--source", video], True, ""),
        ("gui live faces+people", ["gui", "--source", video], True, "[camera]\nkind=faces+people\n"),
    ]


def traced(app: Path, args: list[str], env: dict, log: Path, until_term: bool, keys: str = "") -> int:
    command = ["strace", "-f", "-y", "-qq", "-z", "-e", f"trace={SYSCALLS}", "-o", str(log), "--", str(app), *args]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if until_term:
        if keys:  # typed into the window once it is up, e.g. ctrl+o for the file dialog
            time.sleep(GUI_SECONDS / 2)
            subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "lwface", "windowfocus", "--sync",
                            "key", keys], env=env, check=False)
        time.sleep(GUI_SECONDS / 2 if keys else GUI_SECONDS)
        if keys:  # close the dialog first: a modal one holds back the window's close
            subprocess.run(["xdotool", "search", "--onlyvisible", "--name", ".", "windowfocus", "--sync",
                            "key", "Escape"], env=env, check=False)
            time.sleep(1)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        for pid in children:  # the app itself, so it quits as from the window manager
            os.kill(int(pid), signal.SIGTERM)
    _, err = proc.communicate(timeout=600)
    if proc.returncode:
        print(f"   exit {proc.returncode}: {err.strip()[-400:]}", file=sys.stderr)
    return proc.returncode


def paths_in(log: Path, root: str) -> tuple[set[str], set[str], set[str]]:
    """(opened or executed, loaded by ld.so, only looked at) paths under root, resolved."""
    opened, loaded, looked = set(), set(), set()
    for line in log.read_text(errors="replace").splitlines():
        mapped = LOADED.match(line)
        match = LINE.match(line)
        if mapped:
            call, path = "mmap", mapped.group(1)
        elif match:
            call, path = match.groups()
        else:
            continue
        real = os.path.realpath(path)
        if real.startswith(root):
            {"mmap": loaded, "openat": opened, "open": opened, "execve": opened}.get(call, looked).add(real)
    return opened, loaded, looked


def is_elf(path: str) -> bool:
    with open(path, "rb") as file:
        return file.read(4) == b"\x7fELF"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app_dir")
    parser.add_argument("photos")
    parser.add_argument("--x11", action="store_true", help="also run the GUI on Xvfb with the xcb plugin")
    parser.add_argument("--keep", metavar="DIR", help="keep the strace logs here")
    parser.add_argument("--top", type=int, default=40, help="list this many unopened files (default 40)")
    args = parser.parse_args()
    if not shutil.which("strace"):
        raise SystemExit("strace is needed: apt-get install strace")
    app_dir = Path(args.app_dir).resolve()
    app = app_dir / "lwface-desktop"
    root = str(app_dir) + "/"
    work = Path(args.keep or tempfile.mkdtemp(prefix="package-usage-"))
    work.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="package-usage-home-"))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.clips import write_clip
    clip = work / "clip.avi"
    write_clip(str(clip), 2)
    base = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    runs = [(name, a, term, conf, {**base, "QT_QPA_PLATFORM": "offscreen"}, "")
            for name, a, term, conf in scenarios(Path(args.photos).resolve(), clip, work)]
    xvfb = None
    if args.x11:
        display = next(f":{d}" for d in range(90, 121) if not Path(f"/tmp/.X{d}-lock").exists())
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        x11 = {**base, "DISPLAY": display}
        runs += [("gui photo x11", [str(Path(args.photos).resolve() / "astronaut.jpg")], True, "", x11, ""),
                 ("gui live x11", ["gui", "--source", str(clip)], True, "[camera]\nkind=yolov5\n", x11, "")]
        if shutil.which("xdotool"):  # Qt's own file dialog sorts names with ICU's collation
            folder = f"[files]\nlast_folder={Path(args.photos).resolve()}\n"
            runs.append(("gui file dialog x11", [], True, folder, {**x11, "LANG": "en_US.UTF-8"}, "ctrl+o"))
    opened: dict[str, set[str]] = {}
    loaded: set[str] = set()
    looked: set[str] = set()
    failed = 0
    try:
        for name, run_args, term, conf, env, keys in runs:
            log = work / (re.sub(r"\W+", "-", name) + ".strace")
            settings = home / ".config" / "lwface" / "lwface-desktop.conf"
            settings.parent.mkdir(parents=True, exist_ok=True)
            settings.write_text(conf)
            print(f"-- {name}", flush=True)
            failed += bool(traced(app, run_args, env, log, term, keys))
            seen, mapped, stat_only = paths_in(log, root)
            for path in seen:
                opened.setdefault(path, set()).add(name)
            loaded |= mapped
            looked |= stat_only
    finally:
        if xvfb:
            xvfb.terminate()
            xvfb.wait()
        shutil.rmtree(home, ignore_errors=True)

    files = {}
    for folder, _, names in os.walk(app_dir):
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                files[path] = os.path.getsize(path)
    never = {p: s for p, s in files.items() if p not in opened}
    total, unused = sum(files.values()), sum(never.values())
    print(f"\n{len(files)} files, {total / 1e6:.1f} MB; opened by some run: {len(files) - len(never)} files, "
          f"{(total - unused) / 1e6:.1f} MB; never opened: {len(never)} files, {unused / 1e6:.1f} MB")
    by_dir: dict[str, int] = {}
    for path, size in never.items():
        rel = Path(path).relative_to(app_dir).parts
        key = "/".join(rel[:3] if len(rel) > 3 else rel[:-1]) or "."
        by_dir[key] = by_dir.get(key, 0) + size
    print("\nnever opened, by folder:")
    for key, size in sorted(by_dir.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {size / 1e6:8.2f} MB  {key}")
    print(f"\nnever opened, biggest {args.top} (s: only stat'ed or checked):")
    for path, size in sorted(never.items(), key=lambda kv: -kv[1])[: args.top]:
        mark = "s" if path in looked else " "
        print(f"  {size / 1e6:8.2f} MB {mark} {Path(path).relative_to(app_dir)}")
    elf = [p for p in opened if p in files and p not in loaded and p != str(app) and is_elf(p)]
    print(f"\nlibraries opened but never loaded (Qt reads each plugin's metadata), "
          f"{sum(files[p] for p in elf) / 1e6:.1f} MB:")
    for path in sorted(elf, key=lambda p: -files[p]):
        print(f"  {files[path] / 1e6:8.2f} MB   {Path(path).relative_to(app_dir)}")
    print(f"\nstrace logs in {work}" if args.keep else "")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
