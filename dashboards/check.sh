#!/bin/sh
# Checks the alerting rules and runs their unit tests with promtool (Debian: apt-get install prometheus).
# Exits non-zero when promtool is missing, a rule is invalid or a test fails.
set -eu
cd "$(dirname "$0")"
PROMTOOL="${PROMTOOL:-promtool}"
if ! command -v "$PROMTOOL" >/dev/null 2>&1; then
    echo "check.sh: promtool not found (apt-get install prometheus, or set PROMTOOL)" >&2
    exit 2
fi
"$PROMTOOL" check rules alerts.yaml
"$PROMTOOL" test rules alerts.test.yaml
