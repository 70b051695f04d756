#!/usr/bin/env bash
# Code size: builds size-probe/ (eight cleanups on a Teardown, run with a
# report) and its hand-written floor for thumbv7em-none-eabihf, prints both
# .text sizes and their ratio, and fails if the probe's .text is over the
# budget in size-probe/budget.txt. The build itself fails if a stack is over
# its RAM budget on this target (size-probe/src/ram.rs).
set -euo pipefail
cd "$(dirname "$0")/../size-probe"

TARGET=thumbv7em-none-eabihf

# Install what is missing, and only that.
installed_targets=$(rustup target list --installed)
grep -qx "$TARGET" <<<"$installed_targets" || rustup target add "$TARGET"
installed_components=$(rustup component list --installed)
grep -q '^llvm-tools' <<<"$installed_components" ||
  rustup component add llvm-tools || rustup component add llvm-tools-preview
command -v cargo-size >/dev/null 2>&1 || cargo install --locked cargo-binutils

die() {
  echo "size.sh: $*" >&2
  exit 1
}

# The .text size in bytes of one of size-probe's binaries.
text_of() {
  local sizes text
  sizes=$(cargo size --release --bin "$1" -- -A)
  text=$(awk '$1 == ".text" { print $2 }' <<<"$sizes")
  [[ "$text" =~ ^[0-9]+$ ]] || die "no .text size for $1 in: $sizes"
  echo "$text"
}

cargo build --release
probe=$(text_of probe)
floor=$(text_of floor)

# budget.txt: one number, the probe's .text budget in bytes; lines starting
# with '#' are comments.
budget=$(awk '!/^[[:space:]]*(#|$)/ { n++; v = $0 } END { if (n == 1) print v }' budget.txt)
budget=${budget//[[:space:]]/}
[[ "$budget" =~ ^[0-9]+$ ]] || die "budget.txt must hold one number (besides # comments)"

ratio=$(awk -v p="$probe" -v f="$floor" 'BEGIN { printf "%.2f", p / f }')
echo "probe .text: ${probe} B"
echo "floor .text: ${floor} B"
echo "ratio probe/floor: ${ratio}x"
echo "budget (probe .text): ${budget} B"
if ((probe > budget)); then
  die "probe .text (${probe} B) is over its budget (${budget} B)"
fi
echo "probe .text is within its budget ($((budget - probe)) B to spare)"
