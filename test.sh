#!/usr/bin/env bash
# Installs what the tests need when it is missing (ffmpeg, chromium), runs every test project in
# the solution, and ends with one line counted from the real results:
#   tests: N passed, N failed, N skipped
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

scripts/ensure-packages.sh ffmpeg chromium

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test VideoEncode.sln --nologo </dev/null 2>&1 | tee "$log" || status=$?

# Every test assembly ends with one summary line, e.g.
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

projects=$(grep -l 'Microsoft.NET.Test.Sdk' tests/*/*.csproj | wc -l)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or a test host failed before its results were counted
fi
if [ "$summaries" -lt "$projects" ]; then
  echo "test.sh: only $summaries of $projects test projects reported results" >&2
  [ "$failed" -gt 0 ] || failed=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
