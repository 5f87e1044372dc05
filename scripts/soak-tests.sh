#!/usr/bin/env bash
# Runs each given test file N times in a row (one run at a time, as CI runs them)
# and prints "FILE: N passed, M failed" per file, to find flaky tests. Every run is
# bounded by SOAK_RUN_TIMEOUT_S (default 300 s), so a hung run counts as failed and
# the loop still ends. The log of every failed run is kept under SOAK_LOG_DIR.
# Runs go WITHOUT --test-force-exit (unlike scripts/test.sh), so a file whose process
# stays alive after its tests (a leaked socket, timer or pool) fails here by timeout;
# SOAK_FORCE_EXIT=1 adds the flag. SOAK_NODE_ARGS adds node options (e.g. an --import).
#   usage: scripts/soak-tests.sh [-n RUNS] FILE...
#   e.g.   scripts/soak-tests.sh -n 30 test/netns/real-partitions.test.ts test/faults/*.test.ts
# Load from a second process is up to the caller, e.g. `timeout 600 node -e 'for(;;){}' &`.
# Exits non-zero when any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=30
if [[ "${1:-}" == "-n" ]]; then runs="$2"; shift 2; fi
if [[ $# -eq 0 || ! "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [-n RUNS] FILE..." >&2
  exit 2
fi
run_timeout_s="${SOAK_RUN_TIMEOUT_S:-300}"
log_dir="${SOAK_LOG_DIR:-/tmp/soak-tests}"
force_exit=""
[[ "${SOAK_FORCE_EXIT:-0}" == 1 ]] && force_exit="--test-force-exit"
mkdir -p "$log_dir"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"

any_failed=0
for file in "$@"; do
  passed=0
  failed=0
  name="$(basename "$file" .test.ts)"
  for ((run = 1; run <= runs; run++)); do
    log="$log_dir/$name.$run.log"
    started=$(date +%s)
    # --kill-after: a run that ignores SIGTERM is still ended.
    # shellcheck disable=SC2086 # SOAK_NODE_ARGS is a list of options
    if timeout --kill-after=10 "$run_timeout_s" node ${SOAK_NODE_ARGS:-} --import tsx --test $force_exit \
      --test-concurrency=1 --test-reporter=spec "$file" >"$log" 2>&1; then
      passed=$((passed + 1))
      rm -f "$log"
      verdict=pass
    else
      failed=$((failed + 1))
      verdict="FAIL (log: $log)"
    fi
    echo "$name run $run/$runs: $verdict in $(( $(date +%s) - started )) s"
  done
  echo "$file: $passed passed, $failed failed"
  [[ $failed -eq 0 ]] || any_failed=1
done
exit "$any_failed"
