#!/usr/bin/env bash
# The speed the hot-path code is written for, held by CI: counts the
# instructions of the library's cases with bench/instructions.sh (callgrind:
# the same count on every run, whatever the machine's load) and fails if
# any case, at any N, is more than TOLERANCE_PERCENT above its line in
# bench/budget.txt.
#
#   .ci/instructions.sh            check against bench/budget.txt
#   .ci/instructions.sh --write    measure and write bench/budget.txt anew
#
# The counts belong to one toolchain and one C library: the budget file
# names the rustc it was measured with, and a check with another rustc
# says so before comparing (a new compiler may move the counts).
set -euo pipefail
cd "$(dirname "$0")/.."

TOLERANCE_PERCENT=${TOLERANCE_PERCENT:-3}
BUDGET=bench/budget.txt
# The library's own cases; the references (floor_*, async_safe_defer_*)
# are not ours to keep.
CASES=(teardown_borrowed teardown_inline teardown_boxed)

die() {
  echo "instructions.sh: $*" >&2
  exit 1
}

command -v valgrind >/dev/null 2>&1 || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind
}

counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
INSNS_COUNTS="$counts" bash bench/instructions.sh "${CASES[@]}"
echo

rustc_now=$(rustc --version)
if [[ "${1:-}" == "--write" ]]; then
  {
    echo "# Instructions budget of bench/instructions.sh's library cases, checked by"
    echo "# .ci/instructions.sh (fails above ${TOLERANCE_PERCENT}%): case, N, I(N) measured."
    echo "# rustc: $rustc_now"
    awk '{ print $1, $2, $3 }' "$counts"
  } >"$BUDGET"
  echo "wrote $BUDGET"
  exit 0
fi

[[ -f "$BUDGET" ]] || die "no $BUDGET: run .ci/instructions.sh --write"
rustc_budget=$(sed -n 's/^# rustc: //p' "$BUDGET")
if [[ "$rustc_budget" != "$rustc_now" ]]; then
  echo "note: the budget was measured with $rustc_budget; this is $rustc_now"
fi

# Every budget line must be measured, and every measured case budgeted.
awk -v tolerance="$TOLERANCE_PERCENT" '
  FNR == NR { if ($0 !~ /^#/ && NF == 3) { budget[$1 " " $2] = $3 }; next }
  {
    key = $1 " " $2
    seen[key] = 1
    if (!(key in budget)) { printf "%-20s N = %-7s %12d: no budget\n", $1, $2, $3; bad = 1; next }
    limit = budget[key] * (1 + tolerance / 100)
    change = ($3 - budget[key]) * 100 / budget[key]
    verdict = $3 > limit ? "OVER BUDGET" : "ok"
    printf "%-20s N = %-7s %12d (budget %12d, %+6.2f%%) %s\n", $1, $2, $3, budget[key], change, verdict
    if ($3 > limit) bad = 1
  }
  END {
    for (key in budget) if (!(key in seen)) { print key ": budgeted, not measured"; bad = 1 }
    exit bad
  }
' "$BUDGET" "$counts" || die "instruction counts over budget (more than ${TOLERANCE_PERCENT}% above $BUDGET)"
echo "every case within ${TOLERANCE_PERCENT}% of its budget"
