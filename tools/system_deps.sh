#!/usr/bin/env bash
# System programs the course needs that pip cannot install: ffmpeg/ffprobe (musdb and
# museval refuse to import without them). Installs them with apt-get when running as root
# on Debian/Ubuntu; otherwise says exactly what to install and stops.
set -euo pipefail
missing=()
for prog in ffmpeg ffprobe; do
  command -v "$prog" >/dev/null 2>&1 || missing+=("$prog")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ffmpeg with apt-get (missing: ${missing[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  exit 0
fi
cat >&2 <<MSG
Missing system programs: ${missing[*]}.
Install ffmpeg, then run make again:
  Debian/Ubuntu: sudo apt-get install ffmpeg
  conda:         conda install -c conda-forge ffmpeg
  macOS:         brew install ffmpeg
MSG
exit 1
