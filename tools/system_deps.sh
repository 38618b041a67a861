#!/usr/bin/env bash
# System programs the course needs that pip cannot install:
# - ffmpeg/ffprobe: musdb and museval refuse to import without them;
# - node/npm: `make slides` installs reveal.js and MathJax from the npm registry (npm ci);
# - chromium: the slide tests render the decks in headless Chromium.
# Installs what is missing with apt-get when running as root on Debian/Ubuntu; otherwise says
# exactly what to install and stops.
set -euo pipefail
missing=()   # programs not found
packages=()  # the apt packages that provide them
for prog in ffmpeg ffprobe; do
  command -v "$prog" >/dev/null 2>&1 || missing+=("$prog")
done
[ ${#missing[@]} -gt 0 ] && packages+=(ffmpeg)
# Debian's nodejs comes without npm; NodeSource's nodejs brings its own npm
command -v node >/dev/null 2>&1 || { missing+=(node); packages+=(nodejs); }
command -v npm >/dev/null 2>&1 || { missing+=(npm); packages+=(npm); }
browser=""
for prog in "${CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
  if [ -n "$prog" ] && command -v "$prog" >/dev/null 2>&1; then browser=$prog; break; fi
done
if [ -z "$browser" ]; then
  missing+=(chromium)
  packages+=(chromium)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${packages[*]} with apt-get (missing: ${missing[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  exit 0
fi
cat >&2 <<MSG
Missing system programs: ${missing[*]}.
Install them, then run make again:
  Debian/Ubuntu: sudo apt-get install ${packages[*]}
  conda:         conda install -c conda-forge ffmpeg nodejs   (and a Chromium or Chrome browser)
  macOS:         brew install ffmpeg node && brew install --cask chromium
A Chrome or Chromium elsewhere on the system works too: set CHROMIUM=/path/to/it.
MSG
exit 1
