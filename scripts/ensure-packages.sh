#!/usr/bin/env bash
# Installs the Debian packages the project needs when their programs are missing.
#   scripts/ensure-packages.sh ffmpeg chromium postgresql
# Knows: ffmpeg (ffmpeg + ffprobe), chromium (/usr/bin/chromium), postgresql (initdb + pg_ctl, which
# Debian keeps outside PATH in /usr/lib/postgresql/VERSION/bin).
set -euo pipefail
missing=()
for package in "$@"; do
  case "$package" in
    ffmpeg) command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg) ;;
    chromium) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    postgresql) compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || command -v pg_ctl >/dev/null 2>&1 || missing+=(postgresql) ;;
    *) echo "ensure-packages: unknown package $package" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install: ${missing[*]}" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "Please install as root: apt-get install ${missing[*]}" >&2; exit 1; }
  sudo="sudo -n"
fi
echo "Installing ${missing[*]}…"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
