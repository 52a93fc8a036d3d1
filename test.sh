#!/usr/bin/env bash
# Installs what the tests need when it is missing (ffmpeg, chromium), runs every test project in
# the solution, and ends with one line counted from the real results:
#   tests: N passed, N failed, N skipped
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

scripts/ensure-packages.sh ffmpeg chromium

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
dotnet test VideoEncode.sln --nologo --logger trx --results-directory "$results" </dev/null || status=$?

# Each test project writes one .trx file; add up their counters.
passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  value() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done
if [ "$files" -eq 0 ] && [ "$status" -ne 0 ]; then
  failed=$((failed + 1)) # the build or the test host failed before any result was written
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
