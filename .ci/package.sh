#!/usr/bin/env bash
# Packages the crate as it would be published, checks what goes in, then
# runs the test suite of the unpacked package on its own, outside this
# repository: a test that needs a file the package leaves out fails here,
# not for whoever tests the published crate.
set -euo pipefail
cd "$(dirname "$0")/.."

root=$PWD
version=$(cargo pkgid | sed 's/.*[#@]//')
crate="target/package/teardown-stack-$version.crate"

cargo package --allow-dirty --no-verify --locked
listing=$(tar -tzf "$crate" | sed "s|^teardown-stack-$version/||")

# What the tests read at run time must be in; what only this repository
# uses must not be.
for wanted in tests/regressions/stack_order_isolation/ tests/regressions/stack_deadlines/ tests/regressions/lifecycle/ \
  tests/harness/ tests/common/ examples/service/ Cargo.lock; do
  grep -q "^$wanted" <<<"$listing" || { echo "package lacks $wanted" >&2; exit 1; }
done
for unwanted in .ci/ fuzz/ bench/ size-probe/ examples/cortex-m/; do
  if grep -q "^$unwanted" <<<"$listing"; then
    echo "package ships $unwanted" >&2
    exit 1
  fi
done
printf '%s: %s files, %s bytes compressed\n' "$crate" \
  "$(wc -l <<<"$listing")" "$(wc -c <"$crate")"

unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
tar -xzf "$crate" -C "$unpacked"
cd "$unpacked/teardown-stack-$version"
# A target directory of its own, kept between runs: sharing the
# repository's would overwrite its example binaries with the package's.
export CARGO_TARGET_DIR="$root/target/package-tests"
cargo test --all-features --locked
