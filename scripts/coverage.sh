#!/usr/bin/env bash
# Runs the tests as ./test.sh does (every project, and the store's rules again on PostgreSQL) with
# coverlet collecting, then prints the line coverage of each project under src/, counted over all
# the runs together (a line is covered when any run covered it):
#   scripts/coverage.sh [FILTER]   FILTER: a `dotnet test --filter` expression, to try a few tests
# The test summary comes first; the coverage lines, one per project, come last.
set -euo pipefail
cd "$(dirname "$0")/.."

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
COVERAGE_DIR="$results" TEST_FILTER="${1:-}" ./test.sh || status=$?

# Each run leaves a coverage.cobertura.xml naming, for every assembly (package) it loaded, each
# source file's lines and how often they ran. The projects are the folders under src/.
python3 - "$results" src/*/ <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
results, projects = sys.argv[1], [os.path.basename(p.rstrip('/')) for p in sys.argv[2:]]
lines = {}  # project -> {(file, line number): covered}
for report in glob.glob(os.path.join(results, '**', 'coverage.cobertura.xml'), recursive=True):
    root = ET.parse(report).getroot()
    source = next((s.text for s in root.iter('source') if s.text), '')
    for package in root.iter('package'):
        name = package.get('name')
        if name not in projects:
            continue
        seen = lines.setdefault(name, {})
        for cls in package.iter('class'):
            path = os.path.normpath(os.path.join(source, cls.get('filename')))
            # Code a source generator wrote (the minimal API's request delegates: *.g.cs, in obj/ or in no
            # file at all) is not ours to cover.
            if path.endswith('.g.cs') or f'{os.sep}obj{os.sep}' in path or not os.path.isfile(path):
                continue
            for line in cls.iter('line'):
                key = (path, int(line.get('number')))
                seen[key] = seen.get(key, False) or int(line.get('hits')) > 0
for name in projects:
    seen = lines.get(name, {})
    covered = sum(seen.values())
    share = f'{100 * covered / len(seen):.1f} %' if seen else 'not loaded by any test run'
    print(f'coverage of src/{name}: {share} of lines ({covered} of {len(seen)})')
PY
exit "$status"
