#!/usr/bin/env bash
# Builds the release archives: self-contained single-file executables of the host (videoencode-host) and
# the worker (videoencode-worker), no .NET needed where they run, packed per platform into dist/:
#   dist/videoencode-VERSION-RID.tar.gz   (.zip for Windows), and dist/SHA256SUMS beside them
#   scripts/release.sh VERSION [RID …]     (default: linux-x64 linux-arm64 win-x64 osx-arm64)
# Each archive holds the two programs, pages/ (the host serves it from beside itself), the schema files,
# LICENSE and INSTALL.md; a Linux one also systemd/ (the units, the sysusers entry) and install.sh.
# Set RELEASE_OUT=DIR to build into DIR instead of dist/ (the suite's release test does).
#
# Not trimmed: both programs read and write JSON by reflection (System.Text.Json without source
# generation), the host maps rows with Dapper and builds minimal APIs and Swagger by reflection; the
# trimmer warns about all of these (IL2026/IL3050), and a trimmed program that passes its build could
# still lose a property at run time. The native libraries (SQLite's) stay beside the host rather than
# extracted at start, which would need a writable folder the hardened units do not give it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

version="${1:-}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "usage: scripts/release.sh VERSION [RID …]   (VERSION like 1.4.0 or 1.5.0-rc.1)" >&2
  exit 2
fi
shift
rids=("$@")
[ ${#rids[@]} -gt 0 ] || rids=(linux-x64 linux-arm64 win-x64 osx-arm64)
out="$(realpath -m "${RELEASE_OUT:-dist}")"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
mkdir -p "$out"

# Built from a copy of the sources, so the working tree's bin/ and obj/ (restored for no platform) are left alone.
tree="$build/tree"
mkdir -p "$tree"
tar --exclude=bin --exclude=obj -cf - Directory.Build.props Directory.Packages.props schema.sql schema.postgres.sql wwwroot src | tar -xf - -C "$tree"

publish() { # project rid folder
  dotnet publish "$tree/$1" -c Release -r "$2" --self-contained -o "$3" --nologo -v quiet \
    -p:Version="$version" -p:PublishSingleFile=true -p:DebugType=none -p:GenerateDocumentationFile=false \
    -p:IsTransformWebConfigDisabled=true </dev/null   # no IIS web.config: the host runs on its own
}

archives=()
for rid in "${rids[@]}"; do
  name="videoencode-$version-$rid"
  stage="$build/$name"
  exe=""; [[ "$rid" == win-* ]] && exe=".exe"
  publish src/VideoEncode.Api "$rid" "$build/host-$rid"
  publish src/VideoEncode.Worker "$rid" "$build/worker-$rid"
  mkdir -p "$stage"
  # The host's folder as published (its program, pages/, appsettings.json, native libraries), then the worker's program.
  cp -R "$build/host-$rid/." "$stage/"
  rm -f "$stage"/*.staticwebassets.*.json   # build-time metadata of static assets; the host serves pages/ itself
  mv "$stage/VideoEncode.Api$exe" "$stage/videoencode-host$exe"
  cp "$build/worker-$rid/VideoEncode.Worker$exe" "$stage/videoencode-worker$exe"
  cp schema.sql schema.postgres.sql LICENSE scripts/release/INSTALL.md "$stage/"
  if [[ "$rid" == linux-* ]]; then
    mkdir -p "$stage/systemd"
    cp scripts/release/videoencode-host.service scripts/release/videoencode-worker@.service "$stage/systemd/"
    cp scripts/release/videoencode.sysusers "$stage/systemd/"
    cp scripts/release/install.sh "$stage/"
  fi
  rm -f "$out/$name.tar.gz" "$out/$name.zip"
  if [[ "$rid" == win-* ]]; then
    (cd "$build" && python3 -m zipfile -c "$out/$name.zip" "$name" >/dev/null)
    archives+=("$name.zip")
  else
    tar -C "$build" --owner=0 --group=0 -czf "$out/$name.tar.gz" "$name"
    archives+=("$name.tar.gz")
  fi
  echo "$out/${archives[-1]}"
done
(cd "$out" && sha256sum "${archives[@]}" >SHA256SUMS)
echo "$out/SHA256SUMS"
