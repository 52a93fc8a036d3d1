#!/usr/bin/env bash
# Installs what the tests need when it is missing (ffmpeg, chromium, postgresql), starts a throwaway
# PostgreSQL cluster, builds once, runs every test project in the solution and the store's rules (the
# API tests with the trait Store=Contract) a second time with PostgreSQL as the store, all side by
# side, then prints the wall time and ends with one line counted from the real results:
#   tests: N passed, N failed, N skipped
# Two settings serve scripts/coverage.sh and trying a few tests by hand:
#   TEST_FILTER=EXPR   only the tests that match this `dotnet test --filter` expression
#   COVERAGE_DIR=DIR   collect coverlet's line coverage of every run into DIR (cobertura files)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$SECONDS

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
dotnet build VideoEncode.sln --nologo -v quiet </dev/null || status=$?

# Apart from the worker tests (below), the test runs go side by side (most of their time is spent waiting on hosts, workers and clocks,
# not on the cores), each into a log of its own, shown whole when it ends so the outputs do not mix.
# The API suite runs on SQLite; the tests of the store's rules run again with PostgreSQL as the store,
# which must behave the same. Tests that choose their store themselves carry Store=RunOnce as well
# and ran in the first pass (a short HTTP smoke test on PostgreSQL is one of them).
runs=()
run() {
  local name="$1" filter="$2" project="$3"
  runs+=("$name")
  [ -z "${TEST_FILTER:-}" ] || filter="${filter:+($filter)&}($TEST_FILTER)"
  local options=(--nologo --no-build ${filter:+--filter "$filter"})
  [ -z "${COVERAGE_DIR:-}" ] || options+=(--collect "XPlat Code Coverage" --results-directory "$COVERAGE_DIR/$name")
  ( set +e; dotnet test "$project" "${options[@]}" </dev/null >"$tmpdir/$name.log" 2>&1; echo $? >"$tmpdir/$name.status" ) &
  # coverlet instruments the assemblies in a project's output folder in place and puts the originals
  # back at the end, so two runs of one project must not overlap: under coverage the runs take turns.
  [ -z "${COVERAGE_DIR:-}" ] || wait
}
# The worker tests go first and alone: they kill workers and hosts mid-encode on leases of a few
# seconds, and with every run beside them the load on two cores passed 40 and a beat came too late.
worker_tests=tests/VideoEncode.Worker.Tests/VideoEncode.Worker.Tests.csproj
if [ "$status" -eq 0 ]; then
  run "$(basename "$worker_tests" .csproj)" "Category!=Release" "$worker_tests"
  wait
  # The release test (ReleaseTests: a Release publish of host and worker for linux-x64, then an encode with the
  # unpacked programs; about 50 s and as many CPU-seconds alone) goes with the side-by-side runs, away from the
  # worker tests' short leases.
  run "VideoEncode.Worker.Tests-release" "Category=Release" "$worker_tests"
  for project in tests/*/*.csproj; do
    grep -q 'Microsoft.NET.Test.Sdk' "$project" && [ "$project" != "$worker_tests" ] || continue
    run "$(basename "$project" .csproj)" "" "$project"
  done
  VIDEOENCODE_TEST_STORE=postgres run "VideoEncode.Api.Tests-on-PostgreSQL" "Store=Contract&Store!=RunOnce" \
    tests/VideoEncode.Api.Tests/VideoEncode.Api.Tests.csproj
  wait
fi
for name in "${runs[@]}"; do
  echo "== $name"
  cat "$tmpdir/$name.log"
  cat "$tmpdir/$name.log" >>"$log"
  [ "$(cat "$tmpdir/$name.status")" -eq 0 ] || status=1
done

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
done < <(grep -E '^(Passed|Failed)! +- Failed: ' "$log" 2>/dev/null)
# Under TEST_FILTER a run may match no test at all, which is a result too.
[ -z "${TEST_FILTER:-}" ] || summaries=$((summaries + $(grep -c '^No test matches the given testcase filter' "$log" 2>/dev/null || true)))

# One summary per test project, plus one for the second (PostgreSQL) run of the store's rules.
projects=$(grep -l 'Microsoft.NET.Test.Sdk' tests/*/*.csproj | wc -l)
expected=$((projects + 1))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or a test host failed before its results were counted
fi
if [ "$summaries" -lt "$expected" ]; then
  echo "test.sh: only $summaries of $expected test runs reported results ($projects projects, the store's rules twice)" >&2
  [ "$failed" -gt 0 ] || failed=1
fi
elapsed=$((SECONDS - started))
echo "wall time: $((elapsed / 60)) min $((elapsed % 60)) s"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
