#!/usr/bin/env python3
"""Markdown table of bench/dadao_scaling.sh's CSVs: median events/s per (d, ranks), the ratios
to one rank measured in the same repetitions, and the ping-pong ceiling."""
import csv
import statistics
import sys
from collections import defaultdict

runs = list(csv.DictReader(open(sys.argv[1])))
pp = list(csv.DictReader(open(sys.argv[2])))
rate = defaultdict(list)
loads = defaultdict(list)
fps = defaultdict(set)
meta = {}
for r in runs:
    d, np = int(r["d"]), int(r["ranks"])
    rate[(d, np)].append(float(r["events_per_s"]))
    loads[d] += [float(r["load_before"].split()[0]), float(r["load_after"].split()[0])]
    fps[d].add(r["fingerprint"])
    meta[d] = (int(r["rounds"]), int(r["grad_events"]) + int(r["comm_events"]))
    meta[(d, np)] = int(r["cross_rank_events"])
# Ratio per repetition (np k and np 1 of the same repetition ran back to back), then the median.
by_rep = {(int(r["d"]), int(r["ranks"]), r["rep"]): float(r["events_per_s"]) for r in runs}
ping = defaultdict(list)
for r in pp:
    ping[int(r["d"])].append(float(r["round_trips_per_s"]))
ranks = sorted({int(r["ranks"]) for r in runs})
head = "| d | rounds | events | " + " | ".join(
    f"np {k} events/s" + (f" | np {k}/np 1" if k > 1 else "") for k in ranks)
head += " | cross-rank events (np 2) | ping-pong round trips/s (np 2) | identical models | load |"
print(head)
print("|" + "---:|" * (head.count("|") - 1))
for d in sorted({int(r["d"]) for r in runs}):
    rounds, events = meta[d]
    cells = [str(d), str(rounds), str(events)]
    for k in ranks:
        cells.append(f"{statistics.median(rate[(d, k)]):.0f}" if rate[(d, k)] else "")
        if k > 1:
            ratios = [by_rep[(d, k, rep)] / by_rep[(d, 1, rep)] for (dd, kk, rep) in by_rep
                      if dd == d and kk == k and (d, 1, rep) in by_rep]
            cells.append(f"{statistics.median(ratios):.2f}" if ratios else "")
    cells.append(str(meta.get((d, 2), "")))
    cells.append(f"{statistics.median(ping[d]):.0f}" if ping[d] else "")
    cells.append("yes" if len(fps[d]) == 1 else f"NO ({len(fps[d])} fingerprints)")
    cells.append(f"{min(loads[d]):.1f}-{max(loads[d]):.1f}")
    print("| " + " | ".join(cells) + " |")
