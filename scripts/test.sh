#!/usr/bin/env bash
# The whole test suite, as CI runs it: generate the Prisma client, type check,
# lint, build the web app, then unit, integration, end-to-end, fault, network
# and browser tests against the PostgreSQL named by TEST_DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

export NEXT_TELEMETRY_DISABLED=1
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"

step() { printf '\n== %s ==\n' "$*"; }

step "prisma generate"
npm run --silent db:generate >/dev/null

step "type check"
npx tsc --noEmit -p tsconfig.json

step "lint"
npx eslint --max-warnings=0 .

step "build the web app"
npx next build >/dev/null

step "tests"
files=$(find core agent server sim test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
# One file at a time: integration tests start servers and agents, and these
# machines have two cores.
# --test-force-exit: a test file whose tests are done may not hang CI on a stray handle;
# the shutdown logs name any step that did not finish (see server/start-server.ts).
node --import tsx --test --test-force-exit --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout $files
