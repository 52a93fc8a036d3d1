#!/bin/sh
# Puts an unpacked VideoEncode release in place; starts nothing.
#   ./install.sh [--prefix DIR]      (default /usr/local)
# DIR/lib/videoencode   the programs, pages and schema files (the host finds its pages beside it)
# DIR/bin               videoencode-host and videoencode-worker, linked
# DIR/lib/systemd/system  videoencode-host.service, videoencode-worker@.service (their paths point into DIR)
# DIR/lib/sysusers.d    the videoencode user, created by `systemd-sysusers` (run it as root afterwards)
# A later release installed over it replaces the programs and units; settings in /etc/videoencode stay.
set -eu
prefix=/usr/local
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "error: --prefix needs a folder" >&2; exit 2; }; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
lib="$prefix/lib/videoencode"

mkdir -p "$lib" "$prefix/bin" "$prefix/lib/systemd/system" "$prefix/lib/sysusers.d"
# Everything of the release but the installer's own files goes to lib/videoencode, replacing an older release's.
for item in "$here"/*; do
  name=$(basename "$item")
  case "$name" in install.sh|systemd) continue ;; esac
  rm -rf "${lib:?}/$name"
  cp -R "$item" "$lib/$name"
done
ln -sf "$lib/videoencode-host" "$prefix/bin/videoencode-host"
ln -sf "$lib/videoencode-worker" "$prefix/bin/videoencode-worker"
for unit in videoencode-host.service videoencode-worker@.service; do
  sed "s|@LIBDIR@|$lib|g" "$here/systemd/$unit" >"$prefix/lib/systemd/system/$unit"
done
cp "$here/systemd/videoencode.sysusers" "$prefix/lib/sysusers.d/videoencode.conf"

cat <<DONE
Installed VideoEncode $("$lib/videoencode-host" --version | cut -d' ' -f2) in $lib. Nothing was started. Next, as root:
  systemd-sysusers                         # creates the videoencode user
  mkdir -p /etc/videoencode                # host.env: VIDEOENCODE_APIKEY=…; worker.env: VIDEOENCODE_SERVER=…, VIDEOENCODE_APIKEY=…
  systemctl daemon-reload
  systemctl enable --now videoencode-host             # the host, on port 5000
  systemctl enable --now videoencode-worker@\$(hostname)   # a worker named after this machine
DONE
