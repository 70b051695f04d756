#!/usr/bin/env bash
# Instructions per callback for "register N ready callbacks, run them with
# futures_lite::future::block_on, read the report", counted by callgrind:
# a count of executed instructions, the same on every run, unlike time on a
# shared machine.
#
#   bench/instructions.sh [CASE...]     (default: every case)
#
# With INSNS_COUNTS=FILE, also writes the raw counts there, one line per
# case and N: `case N I(N) I(0)` (what .ci/instructions.sh checks against
# its budget).
#
# Builds bench/examples/insns.rs in release and runs each case under
# `valgrind --tool=callgrind`, collecting only inside the example's
# `insns_measured` function (`--toggle-collect`): process start, the
# thread, the caller's futures, and one-time costs (an uncounted warm-up run
# goes first) are left out. For each case and N it counts two runs on a
# stack of capacity N: with N callbacks, I(N), and with none, I(0).
#
#   per callback = I(N) / N            everything one register + run + report
#                                      costs, shared among its N callbacks
#   marginal     = (I(N) - I(0)) / N   the same without what a run costs with
#                                      nothing registered (block_on, creating
#                                      and dropping the stack, reading the
#                                      report); flat in N unless some part of
#                                      the work grows faster than N
#
# glibc is told to use its vector loops for memset and memcpy of every size
# (GLIBC_TUNABLES below): for large blocks it would otherwise use
# `rep stosb` / `rep movsb`, which callgrind counts once per byte: zeroing
# 4.8 MB counts 4.8 million instructions that way, 262,000 in the loop of
# 32-byte stores.
#
# The boxed cases count glibc's malloc and free too, and those cost more
# per call the more small blocks are live and freed together (fastbin
# consolidation): their figures grow with N for that reason, not the loop's.
#
# Takes about half a minute (valgrind is about 50x slower than native; the
# counts do not depend on the machine's load).

set -euo pipefail

cd "$(dirname "$0")/.."

all_cases=(
  floor_borrowed
  async_safe_defer_fixed
  teardown_borrowed
  teardown_inline
  floor_boxed
  async_safe_defer_boxed
  teardown_boxed
)
sizes=(16 1024 100000)
# Within this, per-callback figures count as flat across N.
flat_tolerance=0.05

if [[ $# -gt 0 ]]; then
  cases=("$@")
else
  cases=("${all_cases[@]}")
fi

command -v valgrind >/dev/null || {
  echo "valgrind is needed (apt-get install valgrind)" >&2
  exit 1
}

binary=$(
  cargo build --release -p teardown-stack-bench --example insns \
    --message-format=json-render-diagnostics |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
)
[[ -x "$binary" ]] || {
  echo "could not find the built insns example" >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

huge=1000000000000
export GLIBC_TUNABLES="glibc.cpu.x86_rep_stosb_threshold=$huge:glibc.cpu.x86_rep_movsb_threshold=$huge"

# Instructions collected inside insns_measured for: case, capacity, count.
count_instructions() {
  local out="$work/$1.$2.$3.out"
  valgrind --tool=callgrind --collect-atstart=no \
    --toggle-collect='*insns_measured*' \
    --callgrind-out-file="$out" \
    "$binary" "$1" "$2" "$3" >/dev/null 2>"$work/log" || {
    cat "$work/log" >&2
    exit 1
  }
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

declare -A full empty
for case in "${cases[@]}"; do
  for n in "${sizes[@]}"; do
    echo "counting $case N=$n" >&2
    full[$case.$n]=$(count_instructions "$case" "$n" "$n")
    empty[$case.$n]=$(count_instructions "$case" "$n" 0)
  done
done

if [[ -n "${INSNS_COUNTS:-}" ]]; then
  for case in "${cases[@]}"; do
    for n in "${sizes[@]}"; do
      echo "$case $n ${full[$case.$n]} ${empty[$case.$n]}"
    done
  done >"$INSNS_COUNTS"
fi

# The case each is compared with: async-safe-defer's fixed scope for the
# heap-free ones, the hand-written boxed loop for the boxed ones.
reference() {
  case "$1" in
    *boxed) echo floor_boxed ;;
    *) echo async_safe_defer_fixed ;;
  esac
}

per_callback() { awk -v i="${full[$1.$2]}" -v n="$2" 'BEGIN { printf "%.1f", i / n }'; }
marginal() {
  awk -v i="${full[$1.$2]}" -v e="${empty[$1.$2]}" -v n="$2" 'BEGIN { printf "%.1f", (i - e) / n }'
}
# 100000 -> 100,000
label() {
  local digits=$1 grouped=""
  while ((${#digits} > 3)); do
    grouped=",${digits: -3}$grouped"
    digits=${digits:0:${#digits}-3}
  done
  echo "$digits$grouped"
}

echo "## Instructions per callback (callgrind)"
echo
# The library's source, not the benchmark's: its last commit, and whether
# the tree has changes on top.
source_state=$(git log -1 --format=%h -- src Cargo.toml)
git diff --quiet HEAD -- src Cargo.toml || source_state+=" with uncommitted changes"
echo "$(rustc --version), $(valgrind --version), teardown-stack src at $source_state."
echo "Register N ready callbacks + run (block_on) + read the report, on a stack"
echo "of capacity N: instructions / N (ratio to the case compared with)."
echo
header="| case |"
rule="| --- |"
for n in "${sizes[@]}"; do
  header+=" N = $(label "$n") |"
  rule+=" --- |"
done
echo "$header compared with |"
echo "$rule --- |"
for case in "${cases[@]}"; do
  ref=$(reference "$case")
  row="| \`$case\` |"
  for n in "${sizes[@]}"; do
    value=$(per_callback "$case" "$n")
    if [[ -n "${full[$ref.$n]:-}" ]]; then
      ratio=$(awk -v a="$value" -v b="$(per_callback "$ref" "$n")" 'BEGIN { printf "%.2fx", a / b }')
      row+=" $value ($ratio) |"
    else
      row+=" $value |"
    fi
  done
  echo "$row $ref |"
done

echo
echo "### Flat in N?"
echo
echo "Marginal instructions per callback, (I(N) - I(0)) / N, where I(0) is the"
echo "same run with nothing registered (its instructions in the last columns)."
echo "Flat: the marginal figures at N = $(label "${sizes[0]}") to $(label "${sizes[-1]}") are within $(awk -v t="$flat_tolerance" 'BEGIN { print t * 100 }')% of each other."
echo
header="| case |"
rule="| --- |"
for n in "${sizes[@]}"; do
  header+=" marginal, N = $(label "$n") |"
  rule+=" --- |"
done
header+=" flat? |"
rule+=" --- |"
for n in "${sizes[@]}"; do
  header+=" I(0), N = $(label "$n") |"
  rule+=" --- |"
done
echo "$header"
echo "$rule"
for case in "${cases[@]}"; do
  row="| \`$case\` |"
  values=()
  for n in "${sizes[@]}"; do
    values+=("$(marginal "$case" "$n")")
    row+=" ${values[-1]} |"
  done
  row+=" $(printf '%s\n' "${values[@]}" | awk -v t="$flat_tolerance" '
    NR == 1 || $1 < lo { lo = $1 }
    NR == 1 || $1 > hi { hi = $1 }
    END { printf "%s (%.3fx)", (hi <= lo * (1 + t) ? "yes" : "**no**"), hi / lo }') |"
  for n in "${sizes[@]}"; do
    row+=" $(label "${empty[$case.$n]}") |"
  done
  echo "$row"
done
