#!/usr/bin/env python3
"""Which plugin module calls which, from the object files (nm), and whether
the calls go in a circle. A module is one plugin/*.c file; A -> B when A
uses a function or object that B defines. Prints the graph; exits 1 when a
set of modules call each other in a cycle (docs/architecture.md: the
layers only call down).

usage: scripts/module-graph.py [-v] [build/obj]   (-v: print the graph)"""
import collections
import glob
import os
import subprocess
import sys


def graph(objdir):
    defs, uses = {}, {}
    for o in sorted(glob.glob(os.path.join(objdir, "*.o"))):
        m = os.path.basename(o)[:-2]
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        d, u = set(), set()
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBR":
                d.add(p[2])
            elif len(p) == 2 and p[0] == "U":
                u.add(p[1])
        defs[m], uses[m] = d, u
    owner = {s: m for m, d in defs.items() for s in d}
    g = collections.defaultdict(set)
    for m, u in uses.items():
        g[m] |= {owner[s] for s in u if s in owner and owner[s] != m}
    return defs.keys(), g


def cycles(nodes, g):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    objdir = args[0] if args else "build/obj"
    nodes, g = graph(objdir)
    if not nodes:
        print("module-graph: no object files in %s (run make first)" % objdir, file=sys.stderr)
        return 2
    for m in sorted(nodes) if verbose else []:
        print("%s -> %s" % (m, " ".join(sorted(g[m]))))
    found = cycles(nodes, g)
    if found:
        for c in found:
            print("module-graph: cycle: %s" % " <-> ".join(c))
        return 1
    print("module-graph: %d modules, no cycle" % len(nodes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
