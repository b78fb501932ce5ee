#!/usr/bin/env bash
# Time from launching a command to its window being visible, under Xvfb; prints each run and the median.
#   benchmarks/startup.sh RUNS COMMAND [ARGS...]      e.g. benchmarks/startup.sh 7 .venv/bin/lwface-desktop
# Needs Debian's xvfb and xdotool.
set -euo pipefail
runs=$1; shift
for n in $(seq 97 120); do [[ -e /tmp/.X$n-lock ]] || break; done
display=:$n
Xvfb $display -screen 0 1280x800x24 >/dev/null 2>&1 & xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
for _ in $(seq 50); do DISPLAY=$display xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
config=$(mktemp -d)  # fresh settings each time: no restored state
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  DISPLAY=$display XDG_CONFIG_HOME=$config "$@" >/dev/null 2>&1 & app=$!
  deadline=$((start + 20000000000))
  until DISPLAY=$display xdotool search --onlyvisible --name lwface-desktop >/dev/null 2>&1; do
    kill -0 $app 2>/dev/null && (( $(date +%s%N) < deadline )) || { echo "no window: the app failed or took over 20 s" >&2; exit 1; }
    sleep 0.02
  done
  end=$(date +%s%N)
  kill $app; wait $app 2>/dev/null || true
  times+=($(( (end - start) / 1000000 )))
  echo "window visible after ${times[-1]} ms"
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print "median: " a[int((NR+1)/2)] " ms"}'
