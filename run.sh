#!/usr/bin/env bash
# Starts the VideoEncode host on http://127.0.0.1:5000 with an embedded SQLite database under
# data/, making an API key on first run (kept in data/apikey). Ctrl-C stops it.
#   PORT=5001 ./run.sh      another port
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

port="${PORT:-5000}"
base="http://127.0.0.1:$port"
mkdir -p data
if [ ! -s data/apikey ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > data/apikey)
fi
key="$(cat data/apikey)"

echo "Building…"
dotnet build src/VideoEncode.Api -c Release -nologo -v quiet -o .build/api </dev/null >/dev/null

VIDEOENCODE_APIKEY="$key" VIDEOENCODE_DATABASE="data/videoencode.db" \
  dotnet .build/api/VideoEncode.Api.dll --urls "$base" --contentRoot "$PWD/.build/api" &
host=$!
trap 'kill "$host" 2>/dev/null; wait "$host" 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 100); do
  curl -fs "$base/health" >/dev/null 2>&1 && break
  kill -0 "$host" 2>/dev/null || { echo "The host did not start; see the messages above." >&2; exit 1; }
  sleep 0.2
done

cat <<INFO

VideoEncode is running.
  API        $base/api/jobs   (send the header  X-API-Key: $key)
  Swagger    $base/swagger
  Health     $base/health
  Database   data/videoencode.db
  API key    $key   (kept in data/apikey)

Enqueue a job:
  curl -X POST $base/api/jobs -H "Content-Type: application/json" -H "X-API-Key: $key" \\
    -d '{"file_name": "video.mp4", "crf": "23", "preset": "medium"}'

Press Ctrl-C to stop.
INFO
wait "$host"
