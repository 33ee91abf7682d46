#!/usr/bin/env python3
"""Reference values for tests/stats/stats_test.cc, from Python's standard library only.

Run: python3 tests/stats/stats_reference.py. Its output is pasted in the test's comments.
Medians and quantiles: the statistics module. Mann-Whitney U: the exact p by enumerating
every split of the pooled values, and the normal approximation written out from its
textbook formula (tie-corrected variance, continuity correction). Bootstrap: the exact
distribution of a resample's median (every resample of a small sample enumerated).
"""
import itertools
import math
import statistics
from collections import Counter


def u_of(a, b):
    return sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)


def exact_p(a, b):
    pooled = a + b
    n1, prod = len(a), len(a) * len(b)
    u = u_of(a, b)
    far = max(u, prod - u)
    hits = total = 0
    for idx in itertools.combinations(range(len(pooled)), n1):
        sa = [pooled[i] for i in idx]
        sb = [pooled[i] for i in range(len(pooled)) if i not in idx]
        uu = u_of(sa, sb)
        total += 1
        if max(uu, prod - uu) >= far:
            hits += 1
    return u, hits, total, min(1.0, hits / total)


def normal_p(a, b):
    n1, n2 = len(a), len(b)
    n = n1 + n2
    u = u_of(a, b)
    ties = sum(t ** 3 - t for t in Counter(a + b).values())
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return u, 1.0
    z = (abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    return u, 1.0 if z <= 0 else min(1.0, math.erfc(z / math.sqrt(2)))


def resample_median_cdf(values):
    """P(median of a resample <= m) for each possible median m, by enumeration."""
    dist = Counter()
    n = len(values)
    for draw in itertools.product(values, repeat=n):
        dist[statistics.median(draw)] += 1
    total = n ** n
    cdf, acc = {}, 0
    for m in sorted(dist):
        acc += dist[m]
        cdf[m] = acc / total
    return cdf


print("median [3,1,2] =", statistics.median([3, 1, 2]))
print("median [4,1,3,2] =", statistics.median([4, 1, 3, 2]))
data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
print("quantiles inclusive n=4 of 1..10 =", statistics.quantiles(data, n=4, method="inclusive"))
print("quantiles inclusive n=10 of [2.5,7,1,9] =",
      statistics.quantiles([2.5, 7, 1, 9], n=10, method="inclusive"))
for a, b in [([1, 2, 3], [4, 5, 6]), ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]),
             ([1, 3, 5, 7], [2, 4, 6, 8, 10]), ([1.5, 2.5, 9.0], [3.0, 4.0]),
             ([3, 6, 9, 12, 15, 18, 21, 24], [1, 2, 4, 5, 7, 8, 10])]:
    print("exact", a, b, "-> u, hits, splits, p =", exact_p(a, b))
for a, b in [([1, 2, 2, 3], [2, 3, 4, 4]), ([5, 5, 5], [5, 5]),
             (list(range(1, 22)), list(range(11, 32))),
             ([i + 0.5 for i in range(21)], list(range(10, 31)))]:
    print("normal", a, b, "-> u, p =", normal_p(a, b))
for values in ([1, 2, 3, 4, 5], [0, 1]):
    print("resample median cdf of", values, "=", resample_median_cdf(values))
cdf = resample_median_cdf([1, 2, 3, 4, 5])
pmf = {m: cdf[m] - cdf.get(m - 1, 0) for m in cdf}
diff = Counter()
for ma, pa in pmf.items():
    for mb, pb in pmf.items():
        diff[mb - ma] += pa * pb
acc = 0
print("cdf of median(b*) - median(a*) - 10 for a = 1..5, b = 11..15:")
for d in sorted(diff):
    acc += diff[d]
    print("  <= %d: %.5f" % (d, acc))
