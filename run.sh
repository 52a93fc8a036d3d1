#!/usr/bin/env bash
# Starts the VideoEncode host on http://127.0.0.1:5000 with an embedded SQLite database under
# data/ (making an API key on first run, kept in data/apikey; uploaded videos and their results in
# data/media), and one local worker that encodes media/input/* into media/output/*.mp4 as well as
# the videos uploaded to the host. The worker has a key of its own with the worker role, made
# through the host on first run and kept in data/workerkey. Ctrl-C stops both.
#   PORT=5001 ./run.sh      another port
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

port="${PORT:-5000}"
base="http://127.0.0.1:$port"
scripts/ensure-packages.sh ffmpeg

mkdir -p data media/input media/output
if [ ! -s data/apikey ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > data/apikey)
fi
key="$(cat data/apikey)"
if [ -z "$(ls -A media/input)" ]; then
  echo "Making media/input/sample.mp4 (a 5-second test clip)…"
  ffmpeg -v error -f lavfi -i testsrc=duration=5:size=640x360:rate=25 -f lavfi -i sine=frequency=440:duration=5 \
    -c:v libx264 -preset veryfast -c:a aac -shortest media/input/sample.mp4
fi

echo "Building…"
dotnet build src/VideoEncode.Api -c Release -nologo -v quiet -o .build/api </dev/null >/dev/null
dotnet build src/VideoEncode.Worker -c Release -nologo -v quiet -o .build/worker </dev/null >/dev/null

host="" worker=""
stop() {
  trap - EXIT INT TERM
  set +e
  # Two stop signals make the worker put a job it is encoding back in the queue, while the host is still up.
  if [ -n "$worker" ]; then kill -TERM "$worker" 2>/dev/null; sleep 0.2; kill -TERM "$worker" 2>/dev/null; wait "$worker"; fi
  if [ -n "$host" ]; then kill -TERM "$host" 2>/dev/null; wait "$host"; fi
  exit 0
}
trap stop EXIT INT TERM

VIDEOENCODE_APIKEY="$key" VIDEOENCODE_DATABASE="data/videoencode.db" \
  dotnet .build/api/VideoEncode.Api.dll --urls "$base" --contentRoot "$PWD/.build/api" &
host=$!
for _ in $(seq 1 100); do
  curl -fs "$base/health" >/dev/null 2>&1 && break
  kill -0 "$host" 2>/dev/null || { echo "The host did not start; see the messages above." >&2; exit 1; }
  sleep 0.2
done

# The worker's own key (role worker: it cannot delete jobs or make keys), made once through the host and
# kept beside the database. A key the host no longer knows (revoked, or a new database) is made again;
# the name is freed first, as a lost secret cannot be shown again. Keys go to curl on its standard input
# (-H @-), never on a command line other users of the machine could read.
api() { local with="$1"; shift; printf 'X-API-Key: %s\n' "$with" | curl -fs -H @- "$@"; }
workerkey=""
if [ -s data/workerkey ]; then
  workerkey="$(cat data/workerkey)"
  api "$workerkey" -o /dev/null "$base/api/keys/current" || workerkey=""
fi
if [ -z "$workerkey" ]; then
  api "$key" -o /dev/null -X DELETE "$base/api/keys/local-worker" || true
  made="$(api "$key" -S -X POST -H "Content-Type: application/json" -d '{"name": "local-worker", "role": "worker"}' "$base/api/keys")" \
    || { echo "Could not make a key for the local worker; see the messages above." >&2; exit 1; }
  workerkey="$(printf '%s' "$made" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')"
  [ -n "$workerkey" ] || { echo "The host's answer held no key for the local worker." >&2; exit 1; }
  (umask 077 && printf '%s\n' "$workerkey" > data/workerkey)
fi

VIDEOENCODE_SERVER="$base" VIDEOENCODE_APIKEY="$workerkey" \
  dotnet .build/worker/VideoEncode.Worker.dll --input media/input --output media/output --poll-interval 1 &
worker=$!

cat <<INFO

VideoEncode is running.
  Add jobs   $base/add-jobs/   (drop a video there: it uploads, encodes, and offers the result to download)
  View jobs  $base/view-jobs/   (paste the API key below into the page once)
  API        $base/api/jobs   (send the header  X-API-Key: $key)
  Swagger    $base/swagger
  Health     $base/health
  Database   data/videoencode.db
  API key    $key   (kept in data/apikey)
  Worker     media/input -> media/output, and uploaded videos (kept in data/media); its own key in data/workerkey

Enqueue the sample clip; media/output/sample.mp4 appears a few seconds later:
  curl -X POST $base/api/jobs -H "Content-Type: application/json" -H "X-API-Key: $key" \\
    -d '{"file_name": "sample.mp4", "crf": "23", "preset": "medium"}'

Press Ctrl-C to stop.
INFO
wait "$host"
