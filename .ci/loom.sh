#!/usr/bin/env bash
# The stage's wake-to-poll protocol under the loom model checker
# (tests/loom.rs), bounded by LOOM_MAX_PREEMPTIONS (3 by default).
#
#   bash .ci/loom.sh              run the model
#   bash .ci/loom.sh --self-test  plant two lost-wake bugs, each in a copy of
#                                 the tree, and check the model finds both
set -euo pipefail
cd "$(dirname "$0")/.."

# Its own target directory: the cfg changes every crate's build.
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-$PWD/target/loom}"
export RUSTFLAGS="--cfg teardown_stack_loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"

model() { cargo test --release --test loom "$@"; }

if [[ "${1:-}" != "--self-test" ]]; then
  model
  exit 0
fi

# Each plant is a Python replacement (file, old text, new text) applied to a
# copy of the tree; the model must then fail with a deadlock, the form a lost
# wake takes (every thread blocked), not with a build error.
plant() {
  local name=$1 file=$2 old=$3 new=$4 copy
  copy=$(mktemp -d)
  trap 'rm -rf "$copy"' RETURN
  tar --exclude=./target --exclude=./fuzz/target -cf - . | tar -xf - -C "$copy"
  python3 - "$copy/$file" "$old" "$new" <<'EOF'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"plant: the text to replace is not in {path} exactly once")
open(path, "w").write(text.replace(old, new))
EOF
  local log="$copy/loom.log"
  if (cd "$copy" && model) >"$log" 2>&1; then
    echo "loom self-test: '$name' planted, yet the model passed" >&2
    exit 1
  fi
  if ! grep -q "deadlock" "$log"; then
    echo "loom self-test: '$name' planted; the model failed, but not by a deadlock:" >&2
    tail -30 "$log" >&2
    exit 1
  fi
  echo "loom self-test: '$name' planted, found (deadlock)"
}

# The run registers its waker only just before polling the last member (the
# bottom one): a member polled before it and woken in between wakes no one.
plant "run registered between the members' polls" src/run/stage.rs \
"        if let Some(wakers) = &self.wakers {
            wakers.register(cx);
        }
        for (index, cell) in members.iter_mut().enumerate().rev() {" \
"        for (index, cell) in members.iter_mut().enumerate().rev() {
            if index == 0 {
                if let Some(wakers) = &self.wakers {
                    wakers.register(cx);
                }
            }"

# A member's flag is cleared after its poll instead of before: a wake during
# the poll is erased.
plant "ready flag cleared after the poll" src/run/wake.rs \
"            if !self.shared.ready[index].swap(false, Ordering::AcqRel) {
                return None;
            }
            Some(poll(&mut Context::from_waker(&self.members[index])))" \
"            if !self.shared.ready[index].load(Ordering::Acquire) {
                return None;
            }
            let polled = poll(&mut Context::from_waker(&self.members[index]));
            self.shared.ready[index].store(false, Ordering::Release);
            Some(polled)"

echo "loom self-test: both planted bugs found"
