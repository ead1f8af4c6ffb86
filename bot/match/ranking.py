"""Global assignment of candidates to members: diversity and collision spreading, vectorised.

A round-robin draft solved for all members of a run at once: in round r every member who still
needs an r-th pick proposes their best remaining valid candidate; an issue with spare capacity goes
to its highest-scoring proposers (ties: lower member index), the others move on to their next
candidate within the same round. So everybody's first pick is settled before anybody's second, and
a popular issue goes to the member it suits best. Valid = the issue has capacity left, the member
does not hold it yet, and the member holds fewer than `max_per_repo` issues of its repository.

When spreading leaves a member short because their candidates ran out, a second pass lets them
share issues (capacity ignored) - "unless there are not enough eligible issues". Each step is NumPy
over all proposing members; the Python loops run over rounds, never over (member, issue) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bot.match.issues import IssueTable
from bot.match.scoring import MemberArrays, candidates

REFILL_MAX_CELLS = 5_000_000  # members × repositories up to which short members get a refill


@dataclass
class Assignment:
    """picks[m, j] = issue index of member m's j-th pick (-1 = none), with its score."""

    picks: np.ndarray  # int64 [M, n]
    scores: np.ndarray  # float32 [M, n]
    shared: int = 0  # picks given beyond capacity in the second pass
    off_stack: int = 0  # members whose stack matched no available issue at all


def assign(
    cand_issue: np.ndarray,
    cand_score: np.ndarray,
    issue_repo: np.ndarray,
    capacity: np.ndarray,
    n: int,
    *,
    max_per_repo: int = 1,
    share_when_short: bool = True,
) -> Assignment:
    """Pick up to `n` issues per member from their ranked candidates (see module docstring).

    cand_issue int [M, K] (best first, -1 = none), cand_score float [M, K], issue_repo int [I],
    capacity int [I] (how many more members may receive each issue).
    """
    m_total, k = cand_issue.shape
    picks = np.full((m_total, n), -1, dtype=np.int64)
    scores = np.zeros((m_total, n), dtype=np.float32)
    if m_total == 0 or k == 0 or n == 0:
        return Assignment(picks, scores)
    cap = capacity.astype(np.int64).copy()
    _draft(cand_issue, cand_score, issue_repo, cap, picks, scores, max_per_repo, limited=True)
    shared = 0
    if share_when_short:
        before = int((picks >= 0).sum())
        _draft(cand_issue, cand_score, issue_repo, cap, picks, scores, max_per_repo, limited=False)
        shared = int((picks >= 0).sum()) - before
    return Assignment(picks, scores, shared)


def pick_issues(
    members: MemberArrays,
    table: IssueTable,
    issue_value: np.ndarray,
    capacity: np.ndarray,
    n: int,
    *,
    max_per_repo: int = 1,
    repos_per_member: int = 32,
    issues_per_repo: int = 8,
    refill_rounds: int = 1,
    refill_max_cells: int = REFILL_MAX_CELLS,
) -> Assignment:
    """Candidates + draft for all members, then the sharing pass.

    Members left short because others took their candidates first get fresh candidates among
    the issues with capacity left (`refill_rounds` times) before anyone shares an issue; this
    recomputes the members × repositories scores, so it is skipped for runs larger than
    `refill_max_cells` (there the deeper candidate lists do the same job)."""
    cand = candidates(
        members,
        table,
        issue_value,
        repos_per_member=repos_per_member,
        issues_per_repo=issues_per_repo,
    )
    m_total = members.size
    picks = np.full((m_total, n), -1, dtype=np.int64)
    scores = np.zeros((m_total, n), dtype=np.float32)
    if m_total == 0 or n == 0:
        return Assignment(picks, scores, off_stack=cand.off_stack)
    cap = capacity.astype(np.int64).copy()
    rows = _FlatRows.build(cand.issue, table.repo) if max_per_repo == 1 else None
    draft = (cand.issue, cand.score, table.repo, cap, picks, scores, max_per_repo)
    _draft(*draft, limited=True, group=cand.group, rows=rows)
    rounds = refill_rounds if m_total * max(table.repo_lang.shape[0], 1) <= refill_max_cells else 0
    for _ in range(rounds):
        short = np.nonzero((picks >= 0).sum(axis=1) < n)[0]
        still_open = np.where(cap > 0, issue_value, 0).astype(np.float32)
        if short.size == 0 or not still_open.any():
            break
        sub = candidates(
            members.take(short, table.size),
            table,
            still_open,
            repos_per_member=repos_per_member,
            issues_per_repo=issues_per_repo,
        )
        sub_picks, sub_scores = picks[short], scores[short]
        _draft(
            sub.issue, sub.score, table.repo, cap, sub_picks, sub_scores, max_per_repo, limited=True
        )
        picks[short], scores[short] = sub_picks, sub_scores
    before = int((picks >= 0).sum())
    _draft(*draft, limited=False, rows=rows)
    return Assignment(picks, scores, int((picks >= 0).sum()) - before, cand.off_stack)


@dataclass
class _FlatRows:
    """Candidate rows for the one-per-repository fast path: flat 32-bit rows of `width`, each
    padded with `pad` × -1, their repositories (-2 = padding) and `alive[i]`: issue i may still
    be given (`alive[-1]` is False for the padding; set by each draft). Built once per set of
    candidates: both drafts of a run share it."""

    issue: np.ndarray
    repo: np.ndarray
    width: int
    pad: int
    alive: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=bool))

    @classmethod
    def build(cls, cand_issue: np.ndarray, issue_repo: np.ndarray) -> _FlatRows:
        m_total, k = cand_issue.shape
        pad = 64
        padded = np.full((m_total, k + pad), -1, dtype=np.int32)
        padded[:, :k] = cand_issue
        flat_issue = padded.ravel()
        # index -1 (no candidate) takes the appended -2: no int64 temporaries of [M, K] cells
        repo_of = np.append(issue_repo.astype(np.int32), np.int32(-2))
        return cls(flat_issue, repo_of[flat_issue], k + pad, pad)

    def open_for(self, cap: np.ndarray, limited: bool) -> _FlatRows:
        """Start a draft: issues with capacity left may be given (all when not `limited`)."""
        self.alive = np.r_[cap > 0 if limited else np.ones(cap.size, dtype=bool), False]
        return self

    def next_in_new_repo(
        self, members: np.ndarray, ptr: np.ndarray, pick_repo: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """`_next_in_new_repo` on these rows."""
        return _next_in_new_repo(
            members, self.issue, self.repo, self.width, ptr, self.alive, pick_repo, self.pad
        )


def _draft(
    cand_issue: np.ndarray,
    cand_score: np.ndarray,
    issue_repo: np.ndarray,
    cap: np.ndarray,
    picks: np.ndarray,
    scores: np.ndarray,
    max_per_repo: int,
    *,
    limited: bool,
    group: np.ndarray | None = None,
    rows: _FlatRows | None = None,
) -> None:
    """One round-robin draft (module docstring) filling the free slots of `picks` in place.

    `rows`: `_FlatRows.build(cand_issue, issue_repo)` when the caller already has it."""
    m_total, k = cand_issue.shape
    if k == 0 or issue_repo.size == 0:
        return
    ptr = np.zeros(m_total, dtype=np.int64)
    held = (picks >= 0).sum(axis=1)
    pick_repo = np.where(picks >= 0, issue_repo[np.maximum(picks, 0)], -1)
    flat = None
    if max_per_repo == 1:
        flat = (rows or _FlatRows.build(cand_issue, issue_repo)).open_for(cap, limited)
    # first slot of a fresh draft: one search per group of identical rows (`_propose_together`)
    together = group is not None and flat is not None and not (picks >= 0).any()
    found_issue = np.full(m_total if together else 0, -1, dtype=np.int64)
    for slot in range(picks.shape[1]):
        while True:
            members = np.nonzero((held == slot) & (ptr < k))[0]
            if members.size == 0:
                break
            if flat is None:
                members, issues = _next_valid(
                    members,
                    cand_issue,
                    ptr,
                    cap,
                    picks,
                    pick_repo,
                    issue_repo,
                    max_per_repo,
                    limited,
                )
            elif together and slot == 0:
                members, issues = _propose_together(
                    members, group, flat, ptr, pick_repo, found_issue
                )
            else:
                members, issues = flat.next_in_new_repo(members, ptr, pick_repo)
            if members.size == 0:
                break
            score = cand_score[members, ptr[members]]
            won, got, score = _settle(members, issues, score, cap, limited)
            picks[won, slot] = got
            scores[won, slot] = score
            pick_repo[won, slot] = issue_repo[got]
            held[won] += 1
            if limited:
                np.subtract.at(cap, got, 1)
                if flat is not None:
                    flat.alive[got] = cap[got] > 0
            ptr[members] += 1


def _propose_together(
    members: np.ndarray,
    group: np.ndarray | None,
    flat: _FlatRows,
    ptr: np.ndarray,
    pick_repo: np.ndarray,
    found_issue: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """`flat.next_in_new_repo` searched once per `group` of identical candidate rows, the found
    position and issue copied to the group's other members. In the first slot of a fresh draft
    such members hold nothing and so stay at the same position (a community shares stacks; this
    is most of the work when issues run out). `found_issue`: all -1 int64 [M] scratch (stays so).
    """
    assert group is not None
    _, first, which = np.unique(group[members], return_index=True, return_inverse=True)
    reps = members[first]
    found_m, found_i = flat.next_in_new_repo(reps, ptr, pick_repo)
    found_issue[found_m] = found_i
    rep_of = reps[which.ravel()]
    ptr[members] = ptr[rep_of]
    mine = found_issue[rep_of]
    found_issue[found_m] = -1
    return members[mine >= 0], mine[mine >= 0]


def _settle(
    members: np.ndarray, issues: np.ndarray, score: np.ndarray, cap: np.ndarray, limited: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The accepted proposals (member, issue, score): per issue its `cap` highest-scoring
    proposers (ties: lower member index), all of them when not `limited`."""
    order = np.lexsort((members, -score, issues))
    members, issues, score = members[order], issues[order], score[order]
    first = np.r_[True, issues[1:] != issues[:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(issues.size), 0))
    rank = np.arange(issues.size) - starts
    accept = rank < cap[issues] if limited else np.ones(issues.size, dtype=bool)
    return members[accept], issues[accept], score[accept]


def _next_in_new_repo(
    todo: np.ndarray,
    flat_issue: np.ndarray,
    flat_repo: np.ndarray,
    width: int,
    ptr: np.ndarray,
    alive: np.ndarray,
    pick_repo: np.ndarray,
    max_window: int,
) -> tuple[np.ndarray, np.ndarray]:
    """`_next_valid` for one pick per repository (the default), on flattened candidate rows of
    `width` (each padded with `max_window` × -1) and their repositories. `alive[i]`: issue i
    may still be given (`alive[-1]` is False for the padding). One candidate per member first,
    then windows twice as wide for the members still searching."""
    found_m: list[np.ndarray] = []
    found_i: list[np.ndarray] = []
    window = 1
    held_any = (pick_repo >= 0).any(axis=0)  # slots with a repository to rule out
    while todo.size:
        flat = (todo * width + ptr[todo])[:, None] + np.arange(window)  # [n, W]
        issue = flat_issue[flat]
        valid = alive[issue]
        if held_any.any():
            repo = flat_repo[flat]
            held = pick_repo[todo]
            for slot in np.nonzero(held_any)[0]:  # holding the issue = holding its repository
                valid &= repo != held[:, slot : slot + 1]
        stop = valid | (issue < 0)  # candidates are packed: -1 ends the list
        has_stop = stop.any(axis=1)
        first = np.argmax(stop, axis=1)
        rows = np.arange(todo.size)
        hit = has_stop & valid[rows, first]
        found_m.append(todo[hit])
        found_i.append(issue[rows[hit], first[hit]])
        ptr[todo[hit]] += first[hit]
        ptr[todo[has_stop & ~hit]] = width  # the list is exhausted
        more = ~has_stop
        ptr[todo[more]] += window
        todo = todo[more]
        window = min(2 * window, max_window)
    return np.concatenate(found_m), np.concatenate(found_i)


def _next_valid(
    members: np.ndarray,
    cand_issue: np.ndarray,
    ptr: np.ndarray,
    cap: np.ndarray,
    picks: np.ndarray,
    pick_repo: np.ndarray,
    issue_repo: np.ndarray,
    max_per_repo: int,
    limited: bool,
    max_window: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Advance each member's pointer to their next valid candidate; (members, issues) found.

    Looks at one candidate per member first, then at windows twice as wide each pass for the
    members still searching (validity does not change while pointers move: capacity and
    holdings change only when proposals are accepted)."""
    k = cand_issue.shape[1]
    todo = members
    found_m: list[np.ndarray] = []
    found_i: list[np.ndarray] = []
    window = 1
    while todo.size:
        steps = np.arange(window)
        pos = ptr[todo][:, None] + steps  # [n, W]
        inside = pos < k
        issue = np.where(inside, cand_issue[todo[:, None], np.minimum(pos, k - 1)], -1)
        safe = np.maximum(issue, 0)
        valid = issue >= 0
        if limited:
            valid &= cap[safe] > 0
        same_repo = pick_repo[todo][:, None, :] == issue_repo[safe][:, :, None]  # [n, W, n]
        if max_per_repo == 1:  # one per repository also rules out holding the issue already
            valid &= ~same_repo.any(axis=2)
        else:
            valid &= ~(picks[todo][:, None, :] == issue[:, :, None]).any(axis=2)
            valid &= same_repo.sum(axis=2) < max_per_repo
        # candidates are packed: the first -1 (or the end of the list) ends a member's search
        ended = issue < 0
        stop = valid | ended
        has_stop = stop.any(axis=1)
        first = np.argmax(stop, axis=1)
        rows = np.arange(todo.size)
        hit = has_stop & valid[rows, first]
        found_m.append(todo[hit])
        found_i.append(issue[rows[hit], first[hit]])
        ptr[todo[hit]] += first[hit]
        done = has_stop & ~hit  # reached the end of the list
        ptr[todo[done]] = k
        more = ~has_stop
        ptr[todo[more]] += window
        todo = todo[more]
        todo = todo[ptr[todo] < k]
        window = min(2 * window, max_window)
    return np.concatenate(found_m), np.concatenate(found_i)
