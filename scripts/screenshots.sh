#!/usr/bin/env bash
# Regenerates the README's screenshots of view-jobs (docs/view-jobs-desktop.png, docs/view-jobs-phone.png)
# from a seeded queue, in the Debian Chromium at /usr/bin/chromium: the browser test that takes them,
# told to write into docs/.
set -euo pipefail
cd "$(dirname "$0")/.."
VIDEOENCODE_SCREENSHOTS="$PWD/docs" dotnet test tests/VideoEncode.Browser.Tests \
  --filter "FullyQualifiedName~DocsScreenshotTests" --blame-hang-timeout 120s -v q
ls -l docs/view-jobs-desktop.png docs/view-jobs-phone.png
