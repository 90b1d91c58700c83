"""The guard that keeps indexed clips from being lost to a bad re-export.

A period's clips are indexed by event. A new version of its inputs that
would drop too many of those events (a metrics CSV re-exported with a
formatting glitch rejects every row; a truncated file keeps a few) is refused
before anything is written or deleted, until the user says the removal is
meant (``hb-clips run --accept-removals`` / the ``accept_removals`` run
config of ``media_index``).

Events are compared by ``event_id``, not by clip id: a clip re-cut from a
replaced video or with other settings gets a new id but is the same event,
and replacing it is not a removal.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RemovalPlan:
    indexed: frozenset[str]  # event ids the index holds for the period now
    kept: frozenset[str]  # of those, the ones the new version still has

    @property
    def removed(self) -> frozenset[str]:
        return self.indexed - self.kept

    @property
    def share_removed(self) -> float:
        return len(self.removed) / len(self.indexed) if self.indexed else 0.0


def plan_removals(indexed_event_ids, new_event_ids) -> RemovalPlan:
    indexed = frozenset(indexed_event_ids)
    return RemovalPlan(indexed, indexed & frozenset(new_event_ids))


def refusal(plan: RemovalPlan, max_share: float, game_id: str, period: str, metrics_path: Path | str,
            examples: int = 5) -> str | None:
    """Why this version may not be indexed as it is, or None when the removal is within bounds.

    Refused: a period going from some clips to none, or losing more than ``max_share`` of them.
    """
    if not plan.removed:
        return None
    emptied = not plan.kept
    if not emptied and plan.share_removed <= max_share:
        return None
    sample = ", ".join(sorted(plan.removed)[:examples]) + (", ..." if len(plan.removed) > examples else "")
    what = ("none of them is in the new version" if emptied
            else f"{len(plan.removed)} of them ({plan.share_removed:.0%}, more than the {max_share:.0%} allowed) "
                 "are not in the new version")
    return (
        f"{metrics_path}: game {game_id} period {period} has {len(plan.indexed)} indexed clips and {what} "
        f"(events {sample}). Nothing was removed: index and store are unchanged. Check the file (its rejected rows "
        "are in the metrics materialization); if the removal is meant, run again with --accept-removals "
        "(or accept_removals: true in media_index's run config)."
    )
