#!/usr/bin/env python3
"""The functions whose own (self) instructions per request differ most between two
callgrind dumps, as a Markdown table (bench/instructions.sh).

usage: callgrind_diff.py A.cg A_REQUESTS B.cg B_REQUESTS [TOP]

Self cost is what a function's own code retired, calls excluded; in a release build that
includes whatever was inlined into it.
"""

import collections
import re
import sys

# `fn=(12) name` names a function (later `fn=(12)` refers back to it); `cfn=` likewise
# names a callee. A `calls=` line is followed by one cost line: the inclusive cost of that
# call, which is not the caller's own.
NAMED = re.compile(r"^(c?fn)=\((\d+)\)(?: (.*))?$")


def self_costs(path):
    names, costs = {}, collections.Counter()
    current, after_calls = None, False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = NAMED.match(line)
            if m:
                kind, ident, name = m.groups()
                if name:
                    names[ident] = name
                if kind == "fn":
                    current = names.get(ident, ident)
                continue
            if line.startswith("calls="):
                after_calls = True
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                fields = line.split()
                if len(fields) >= 2:
                    if after_calls:
                        after_calls = False
                    elif fields[1].isdigit():
                        costs[current] += int(fields[1])
    return costs


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    a, na = self_costs(sys.argv[1]), float(sys.argv[2])
    b, nb = self_costs(sys.argv[3]), float(sys.argv[4])
    top = int(sys.argv[5]) if len(sys.argv) > 5 else 25
    rows = [(a[k] / na - b[k] / nb, a[k] / na, b[k] / nb, k) for k in set(a) | set(b)]
    rows.sort(key=lambda r: -abs(r[0]))
    print("| difference | A | B | function |")
    print("|---|---|---|---|")
    for d, x, y, k in rows[:top]:
        print(f"| {d:+.0f} | {x:.0f} | {y:.0f} | `{str(k)[:120]}` |")
    print(f"| {sum(a.values()) / na - sum(b.values()) / nb:+.0f} | "
          f"{sum(a.values()) / na:.0f} | {sum(b.values()) / nb:.0f} | all |")


if __name__ == "__main__":
    main()
