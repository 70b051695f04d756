#!/usr/bin/env bash
# Runs examples/cortex-m on QEMU's lm3s6965evb (a Cortex-M3): the cleanups
# run on the device, which checks order and report and exits QEMU with
# success only if both are right. The firmware prints with defmt over
# semihosting, the crate's own lines included (its `defmt` feature);
# defmt-print decodes them here, and the crate's failure warning must be
# among them.
set -euo pipefail
cd "$(dirname "$0")/../examples/cortex-m"

if ! command -v qemu-system-arm >/dev/null 2>&1; then
  apt-get update
  apt-get install -y qemu-system-arm
fi
rustup target list --installed | grep -qx thumbv7m-none-eabi || rustup target add thumbv7m-none-eabi
command -v defmt-print >/dev/null 2>&1 || cargo install --locked defmt-print

cargo build --release
elf=target/thumbv7m-none-eabi/release/teardown-stack-cortex-m
decoded=$(mktemp)
trap 'rm -f "$decoded"' EXIT

# pipefail: QEMU's exit status (the device's verdict) fails the step, and
# so does a decoding error.
timeout 120 cargo run --release |
  defmt-print --log-format '{L} {s}' -e "$elf" |
  tee "$decoded"

# Emitted by the library, not by the example: proves the defmt path end to end.
# `{L}` pads the level to five columns.
expected='teardown callback "radio" failed: radio did not ack'
if ! grep -qxE "WARN +${expected}" "$decoded"; then
  echo "qemu.sh: the crate's defmt warning is missing from the decoded output: $expected" >&2
  exit 1
fi
echo "qemu.sh: found the crate's defmt warning: WARN $expected"
