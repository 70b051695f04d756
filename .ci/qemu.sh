#!/usr/bin/env bash
# Runs examples/cortex-m on QEMU's lm3s6965evb (a Cortex-M3): the cleanups
# run on the device, which checks order and report and exits QEMU with
# success only if both are right.
set -euo pipefail
cd "$(dirname "$0")/../examples/cortex-m"

if ! command -v qemu-system-arm >/dev/null 2>&1; then
  apt-get update
  apt-get install -y qemu-system-arm
fi
rustup target list --installed | grep -qx thumbv7m-none-eabi || rustup target add thumbv7m-none-eabi

cargo build --release
timeout 120 cargo run --release
