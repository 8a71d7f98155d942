#!/usr/bin/env bash
# Lint api/openapi.yaml (the very bytes the server serves at /openapi.yaml)
# with the pinned versions in package-lock.json: Redocly's recommended rules
# must report no error and no warning, and Spectral with the OWASP ruleset
# nothing at warning or above (.spectral.yaml says why each rule it turns
# off is off). .ci/run runs this; so can you, with Node 20 or later.
set -euo pipefail
cd "$(dirname "$0")"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
# --ignore-scripts: no install script of any dependency runs.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
npx --no-install redocly lint --config redocly.yaml --format=json ../openapi.yaml >redocly.json
node -e '
const r = require("./redocly.json");
for (const p of r.problems) console.log(p.severity, p.ruleId, p.location.map(l => l.pointer).join(" "), p.message);
const t = r.totals;
console.log(`redocly: ${t.errors} errors, ${t.warnings} warnings`);
process.exit(t.errors + t.warnings > 0 ? 1 : 0);
'
rm -f redocly.json
npx --no-install spectral lint --fail-severity=warn --ruleset .spectral.yaml ../openapi.yaml
