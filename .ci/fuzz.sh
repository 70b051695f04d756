#!/usr/bin/env bash
# Runs every fuzz target (or those in FUZZ_TARGETS) for a bounded time
# (FUZZ_SECONDS each, 60 by default), seeded with the committed regression
# inputs. A crash fails the run; libFuzzer's log names the saved input
# under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz

# FUZZ_TARGETS="lifecycle" runs only those (a campaign on one target).
targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
cargo +nightly fuzz build -O
for target in $targets; do
  printf '\n-- fuzz %s for %ss --\n' "$target" "$FUZZ_SECONDS"
  mkdir -p "fuzz/corpus/$target"
  if ! cargo +nightly fuzz run -O "$target" "fuzz/corpus/$target" "tests/regressions/$target" -- \
      -max_total_time="$FUZZ_SECONDS" -max_len=1024 -print_final_stats=1; then
    echo "fuzz target $target found a failure; saved input(s):" >&2
    ls -l "fuzz/artifacts/$target" >&2 || true
    exit 1
  fi
done
