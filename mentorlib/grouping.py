"""Grouping students with mentors: matching algorithms, policies and the rulebook checker."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Hashable, Mapping, Sequence


def deferred_acceptance(
    student_prefs: Mapping[Hashable, Sequence[Hashable]],
    mentor_prefs: Mapping[Hashable, Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
) -> dict[Hashable, list[Hashable]]:
    """Student-proposing deferred acceptance with capacities (hospital-resident problem).

    Parameters
    ----------
    student_prefs : mapping
        Student -> mentors in order of preference. Mentors not listed are unacceptable.
    mentor_prefs : mapping
        Mentor -> students in order of preference. Students not listed are unacceptable.
    capacities : mapping
        Mentor -> the most students the mentor takes.

    Returns
    -------
    dict
        Mentor -> matched students, in the mentor's order of preference. Every mentor of
        ``mentor_prefs`` is a key (possibly with an empty list); unmatched students appear
        nowhere.

    Notes
    -----
    Gale & Shapley (1962), extended to capacities by Roth (1984): students propose down their
    lists; a mentor holds the best proposals up to capacity and rejects the rest. The result is
    stable (no student and mentor both prefer each other to their match) and the best stable
    matching for every student. It is the "two-way selection" (双向选择) of the programme.

    Examples
    --------
    >>> deferred_acceptance({"a": ["x"], "b": ["x"]}, {"x": ["b", "a"]}, {"x": 1})
    {'x': ['b']}
    """
    rank = {m: {s: i for i, s in enumerate(p)} for m, p in mentor_prefs.items()}
    held: dict[Hashable, list] = {m: [] for m in mentor_prefs}  # max-heap by rank: (-rank, s)
    nxt = dict.fromkeys(student_prefs, 0)
    free = deque(student_prefs)
    while free:
        s = free.popleft()
        prefs = student_prefs[s]
        while nxt[s] < len(prefs):
            m = prefs[nxt[s]]
            nxt[s] += 1
            r = rank.get(m, {}).get(s)
            cap = capacities.get(m, 0)
            if r is None or cap <= 0:
                continue
            heap = held[m]
            if len(heap) < cap:
                heapq.heappush(heap, (-r, s))
                break
            if r < -heap[0][0]:
                _, rejected = heapq.heapreplace(heap, (-r, s))
                free.append(rejected)
                break
    return {m: [s for _, s in sorted(h, key=lambda t: -t[0])] for m, h in held.items()}
