#!/usr/bin/env bash
# Code size: builds size-probe/ (eight cleanups on a Teardown, run with a
# report) and its hand-written floor for thumbv7em-none-eabihf, prints both
# .text sizes and their ratio, and fails if the probe's .text is over the
# budget in size-probe/budget.txt.
set -euo pipefail
cd "$(dirname "$0")/../size-probe"

rustup target list --installed | grep -qx thumbv7em-none-eabihf ||
  rustup target add thumbv7em-none-eabihf
rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
command -v cargo-size >/dev/null 2>&1 || cargo install --locked cargo-binutils

text_of() {
  cargo size --release --bin "$1" -- -A | awk '$1 == ".text" { print $2 }'
}

cargo build --release
probe=$(text_of probe)
floor=$(text_of floor)
budget=$(grep -v '^#' budget.txt | head -n 1)
ratio=$(awk -v p="$probe" -v f="$floor" 'BEGIN { printf "%.2f", p / f }')
echo ".text: probe ${probe} B, floor ${floor} B, ratio ${ratio}x, budget ${budget} B"
if [ "$probe" -gt "$budget" ]; then
  echo "size-probe .text (${probe} B) is over its budget (${budget} B)" >&2
  exit 1
fi
