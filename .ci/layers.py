#!/usr/bin/env python3
"""Checks that the crate's modules depend on each other one way.

    .ci/layers.py [SRC]          check src/ (exit 1 on a circle or a layer break)
    .ci/layers.py --self-test    plant a circle in a copy of src/ and check
                                 that it is found (exit 1 if it is not)

What a module uses is read from its own code (comments left out): every
`crate::` path, the items of `use crate::{...}` groups, and `super::` paths.
A name used through a re-export (`crate::Teardown`, or `crate::stack::Stage`
through `stack/mod.rs`) counts as a use of the module that defines it, so a
re-export cannot hide a circle.

Two checks:
1. no circle between modules (files);
2. the layers: the folders and root files that `lib.rs` declares, lowest
   first, in the order of its `mod` lines. A module may use its own layer
   and those declared before it, never one declared after it, which also
   rules out any circle between folders.
"""
import os
import re
import shutil
import sys
import tempfile


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def modules_of(src):
    """Module path (tuple) -> file, for every .rs file under src."""
    mods = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, name), src)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib"):
                parts = parts[:-1]
            mods[tuple(parts)] = rel
    return mods


def use_items(text):
    """(path segments) for each item of each `use` and each inline path."""
    paths = []
    # use trees: `use a::b::{c, d::{e, f}};` (nesting two levels deep is enough here)
    for tree in re.findall(r"\buse\s+([^;]+);", text):
        paths.extend(expand(tree.replace("\n", " ")))
    for path in re.findall(r"\b((?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+)", text):
        paths.append(path.split("::"))
    return paths


def expand(tree):
    tree = tree.strip()
    brace = tree.find("{")
    if brace < 0:
        item = tree.split(" as ")[0].strip()
        return [item.split("::")] if item else []
    prefix = tree[:brace].rstrip(":").strip()
    inner = tree[brace + 1 : tree.rfind("}")]
    out = []
    depth, start = 0, 0
    parts = []
    for i, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    for part in parts:
        for sub in expand(part):
            if sub == ["self"]:
                out.append(prefix.split("::"))
            elif sub:
                out.append(prefix.split("::") + sub)
    return out


def absolute(path, module):
    """A path as segments from the crate root, or None if not the crate's."""
    if path[0] == "crate":
        return path[1:]
    if path[0] in ("super", "self"):
        base = list(module)
        while path and path[0] in ("super", "self"):
            if path[0] == "super":
                base = base[:-1]
            path = path[1:]
        return base + path
    return None


def graph(src):
    mods = modules_of(src)
    texts = {m: strip_comments(open(os.path.join(src, f), encoding="utf-8").read()) for m, f in mods.items()}
    # Re-exports: module -> {name: absolute path it stands for}.
    reexports = {}
    for m, text in texts.items():
        names = {}
        for tree in re.findall(r"\bpub(?:\([a-z]+\))?\s+use\s+([^;]+);", text):
            for item in expand(tree.replace("\n", " ")):
                target = absolute(item, m) if item[0] in ("crate", "super", "self") else list(m) + item
                if target:
                    names[item[-1]] = target
        reexports[m] = names

    def resolve(path, seen=0):
        """The module that defines what `path` (absolute) names."""
        for k in range(len(path), -1, -1):
            prefix = tuple(path[:k])
            if prefix in mods:
                rest = path[k:]
                if rest and rest[0] in reexports.get(prefix, {}) and seen < 20:
                    target = reexports[prefix][rest[0]]
                    if tuple(target[:-1]) != prefix or tuple(target) in mods:
                        return resolve(target + rest[1:], seen + 1)
                return prefix
        return None

    edges = {m: set() for m in mods}
    for m, text in texts.items():
        if m == ():
            continue  # the root only declares and re-exports
        for path in use_items(text):
            path = absolute(path, m)
            if path is None:
                continue
            target = resolve(path)
            if target is not None and target != m and target != ():
                edges[m].add(target)
    return mods, edges


def circles(edges):
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            strong(v)
    return comps


def layers(src):
    root = strip_comments(open(os.path.join(src, "lib.rs"), encoding="utf-8").read())
    return re.findall(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", root, re.M)


def show(m):
    return "/".join(m) or "lib"


def check(src):
    mods, edges = graph(src)
    problems = []
    for comp in circles(edges):
        problems.append("import circle: " + " -> ".join(show(m) for m in comp))
    order = layers(src)
    rank = {name: i for i, name in enumerate(order)}
    for m, targets in sorted(edges.items()):
        if not m or m[0] not in rank:
            continue
        for t in sorted(targets):
            if t and t[0] in rank and rank[t[0]] > rank[m[0]]:
                problems.append(f"layer break: {show(m)} (layer {m[0]}) uses {show(t)} (layer {t[0]}, above it)")
    edge_count = sum(len(t) for t in edges.values())
    print(f"{len(mods)} modules, {edge_count} uses between them, layers (lowest first): {', '.join(order)}")
    for problem in problems:
        print(problem)
    return not problems


def self_test(src):
    """A planted circle, and a planted upward use, must both be found."""
    work = tempfile.mkdtemp()
    try:
        copy = os.path.join(work, "src")
        shutil.copytree(src, copy)
        victim = os.path.join(copy, "storage", "cell.rs")
        with open(victim, "a", encoding="utf-8") as f:
            f.write("\n#[allow(unused_imports)]\nuse crate::Teardown;\n")
        print("self-test: a copy of src/ with storage/cell.rs using the stack layer; expected:")
        found = not check(copy)
        print("self-test: a planted use of the stack layer from storage/cell.rs was", "found" if found else "MISSED")
        return found
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(0 if self_test(here) else 1)
    sys.exit(0 if check(sys.argv[1] if len(sys.argv) > 1 else here) else 1)
