#!/usr/bin/env bash
# Installs what the tests need when it is missing (ffmpeg, chromium, postgresql), starts a throwaway
# PostgreSQL cluster, runs every test project in the solution, runs the API tests a second time with
# PostgreSQL as the store, and ends with one line counted from the real results:
#   tests: N passed, N failed, N skipped
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

scripts/ensure-packages.sh ffmpeg chromium postgresql

# One folder for the log and the cluster, so one trap cleans up both. It is opened for traversal
# (not reading) because under root the server runs as the postgres OS user, who must reach
# $tmpdir/postgres. The cluster is stopped quietly so that the counted line stays the last one, and
# even when tests fail or the script is interrupted, so no server outlives the run.
tmpdir="$(mktemp -d)"
trap 'scripts/postgres.sh stop "$tmpdir/postgres" >/dev/null 2>&1 || true; rm -rf "$tmpdir"' EXIT
chmod 711 "$tmpdir"
log="$tmpdir/test.log"

# Tests that need PostgreSQL (the PostgreSQL pass below, several hosts on one queue) find it here.
VIDEOENCODE_TEST_POSTGRES="$(scripts/postgres.sh start "$tmpdir/postgres")"
export VIDEOENCODE_TEST_POSTGRES

status=0
dotnet test VideoEncode.sln --nologo </dev/null 2>&1 | tee "$log" || status=$?

# The API tests default to SQLite; run them again with PostgreSQL as the store, which must behave
# the same. Tests that choose their store themselves (SQLite internals, several hosts on PostgreSQL)
# carry the trait Store=RunOnce and ran in the first pass. The first run built everything, hence
# --no-build. Either run failing fails the script.
VIDEOENCODE_TEST_STORE=postgres dotnet test tests/VideoEncode.Api.Tests/VideoEncode.Api.Tests.csproj \
  --nologo --no-build --filter "Store!=RunOnce" </dev/null 2>&1 | tee -a "$log" || status=$?

# Every test assembly run ends with one summary line, e.g.
#   Passed!  - Failed:     0, Passed:   125, Skipped:     0, Total:   125, Duration: 12 s - X.Tests.dll (net10.0)
# Add them up.
passed=0 failed=0 skipped=0 summaries=0
while read -r line; do
  summaries=$((summaries + 1))
  count() { echo "$line" | grep -o "$1: *[0-9]*" | grep -o '[0-9]*$'; }
  passed=$((passed + $(count Passed)))
  failed=$((failed + $(count Failed)))
  skipped=$((skipped + $(count Skipped)))
done < <(grep -E '^(Passed|Failed)! +- Failed: ' "$log")

# One summary per test project, plus one for the second (PostgreSQL) run of the API tests.
projects=$(grep -l 'Microsoft.NET.Test.Sdk' tests/*/*.csproj | wc -l)
expected=$((projects + 1))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or a test host failed before its results were counted
fi
if [ "$summaries" -lt "$expected" ]; then
  echo "test.sh: only $summaries of $expected test runs reported results ($projects projects, API tests twice)" >&2
  [ "$failed" -gt 0 ] || failed=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
