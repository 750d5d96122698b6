#!/usr/bin/env python3
"""Coefficients of the division-free e^r of LaneMath's fused exp (`expPolynomial`):
e^r ≈ 1 + r + r²·Q(r) on |r| ≤ ln2/2 (after k·ln 2 is taken off), Q of degree 9,
fitted to minimise the relative error (Remez exchange in 60-digit arithmetic, mpmath),
then rounded to doubles and checked: prints each coefficient as a Swift literal and
the worst relative error of the rounded polynomial, which must be far below 2^-53.

    pip install mpmath && python3 scripts/make_exp_polynomial.py
"""

import mpmath as mp

mp.mp.dps = 60
DEGREE = 9  # of Q: e^r is then a degree-11 polynomial
HALF = mp.log(2) / 2 * (1 + mp.mpf("1e-6"))  # |r| ≤ ln2/2, with a margin for the reduction's rounding


def target(r):  # Q's ideal values: (e^r - 1 - r)/r²
    return (mp.exp(r) - 1 - r) / r**2 if r != 0 else mp.mpf(1) / 2


def weight(r):  # an error δ in Q is an error r²·δ/e^r relative to e^r
    return r**2 / mp.exp(r)


def evaluate(q, r):
    return mp.polyval(list(reversed(q)), r)


def relative_error(q, r):
    return (1 + r + r**2 * evaluate(q, r) - mp.exp(r)) / mp.exp(r)


def remez():
    n = DEGREE + 1  # unknowns, plus the level E
    # Start from Chebyshev points, avoiding r = 0 where the weight vanishes.
    points = [HALF * mp.cos(mp.pi * (i + mp.mpf(1) / 4) / (n + 1)) for i in range(n + 1)]
    grid = [HALF * (2 * mp.mpf(i) / 4000 - 1) for i in range(4001)]
    for _ in range(12):
        rows = [[p**j for j in range(n)] + [(-1) ** i / weight(p)] for i, p in enumerate(points)]
        solution = mp.lu_solve(mp.matrix(rows), mp.matrix([target(p) for p in points]))
        q = [solution[j] for j in range(n)]
        errors = [relative_error(q, r) for r in grid]
        # New reference: the extreme of each run of one sign.
        extremes, run = [], [0]
        for i in range(1, len(grid)):
            if mp.sign(errors[i]) == mp.sign(errors[run[0]]) or errors[i] == 0:
                run.append(i)
            else:
                extremes.append(max(run, key=lambda j: abs(errors[j])))
                run = [i]
        extremes.append(max(run, key=lambda j: abs(errors[j])))
        if len(extremes) >= n + 1:
            extremes = sorted(sorted(extremes, key=lambda j: -abs(errors[j]))[: n + 1])
            points = [grid[j] for j in extremes]
    return q


def main():
    q = remez()
    rounded = [float(c) for c in q]
    grid = [HALF * (2 * mp.mpf(i) / 20000 - 1) for i in range(20001)]
    worst = max(abs(relative_error([mp.mpf(c) for c in rounded], r)) for r in grid)
    for j, c in enumerate(rounded):
        print(f"q{j} = {c!r}")
    print(f"worst relative error of the rounded polynomial on |r| <= ln2/2: {mp.nstr(worst, 5)} "
          f"(2^{mp.nstr(mp.log(worst, 2), 4)})")


if __name__ == "__main__":
    main()
