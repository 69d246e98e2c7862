"""Why a change may not act: plain-language notes on a comparison.

A what-if can show no effect for reasons the figures alone do not tell. For each tier
whose team changed and each play that is new or changed in the variant,
:func:`comparison_notes` looks at both runs and says so when

- extra CSM capacity meets an **idle team**: in the baseline the tier's team was below
  :data:`IDLE_UTILISATION` utilised and dropped no work, so added headcount has nothing
  to do;
- less capacity meets a **saturated team**: the variant's team is above
  :data:`BUSY_UTILISATION` utilised or drops work the baseline delivered;
- **no account is eligible** for a play (its tiers and segments hold no account while it
  runs: the engine's ``eligible`` counts), or none ever meets its schedule, conditions or
  trigger (it is never requested);
- a play is requested but **never delivered**, or a large share of its requests is
  dropped (:data:`DROPPED_SHARE`), because its team has no hours for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cs_sim.format import count, percent

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.results import SimulationResult

__all__ = ["BUSY_UTILISATION", "DROPPED_SHARE", "IDLE_UTILISATION", "comparison_notes"]

#: a team below this utilisation, dropping nothing, has spare capacity
IDLE_UTILISATION = 0.8
#: a team above this utilisation is saturated
BUSY_UTILISATION = 0.95
#: a play losing more than this share of its requests is short of CSM time
DROPPED_SHARE = 0.2


def _team_capacity(team: Any) -> float:
    """Hours a month at the end of the plan (headcount changes included)."""
    head = team.headcount
    for change in getattr(team, "changes", []) or []:
        head = change.headcount
    return float(head * team.hours_per_month)


def _tier_use(res: SimulationResult) -> dict[str, dict[str, float]]:
    t = res.tiers.groupby("tier", sort=False)[["hours_used", "capacity_hours", "dropped"]].sum()
    n = max(len(res.replications), 1)
    return {
        str(name): {
            "utilisation": row["hours_used"] / row["capacity_hours"]
            if row["capacity_hours"] > 0 else float("nan"),
            "dropped": row["dropped"] / n,
        }
        for name, row in t.iterrows()
    }


def _due(play: Any) -> str:
    """What makes a play due, in words."""
    if play.kind == "time":
        return "schedule"
    if play.kind == "data":
        return "conditions"
    return f"trigger ({play.trigger.event})"


def comparison_notes(baseline: SimulationResult, variant: SimulationResult) -> list[str]:
    """Notes on changes of the variant that cannot act (see the module docstring).

    Parameters
    ----------
    baseline, variant : SimulationResult

    Returns
    -------
    list of str
        Sentences, empty when nothing stands out.
    """
    notes: list[str] = []
    b_sc, v_sc = baseline.scenario, variant.scenario
    b_use, v_use = _tier_use(baseline), _tier_use(variant)
    b_tiers = {t.name: t for t in b_sc.tiers}
    for tier in v_sc.tiers:
        old = b_tiers.get(tier.name)
        if old is None or tier.name not in b_use or tier.name not in v_use:
            continue
        cap_b, cap_v = _team_capacity(old.team), _team_capacity(tier.team)
        ub, uv = b_use[tier.name]["utilisation"], v_use[tier.name]["utilisation"]
        db, dv = b_use[tier.name]["dropped"], v_use[tier.name]["dropped"]
        both = (f"{percent(ub, digits=0)} utilised in both runs"
                if percent(ub, digits=0) == percent(uv, digits=0)
                else f"{percent(ub, digits=0)} utilised in the baseline and "
                     f"{percent(uv, digits=0)} in the variant")
        if cap_v > cap_b and ub < IDLE_UTILISATION and db < 0.5:
            notes.append(f"The {tier.name} team was {both}, with no work dropped: extra "
                         "headcount has no work to do, so it adds cost and little else.")
        elif cap_v < cap_b and (uv > BUSY_UTILISATION or dv > db + 0.5):
            notes.append(f"The {tier.name} team was {both}; the variant drops "
                         f"{count(dv)} plays per replication (baseline {count(db)}): "
                         "the smaller team cannot keep up with its work.")
    b_plays = {p.name: p for p in b_sc.plays}
    frame = variant.plays
    totals = frame.groupby("play", sort=False).sum(numeric_only=True)
    n = max(len(variant.replications), 1)
    for play in v_sc.plays:
        if b_plays.get(play.name) == play or play.name not in totals.index:
            continue
        row = totals.loc[play.name]
        where = f"tiers {', '.join(play.tiers)}"
        if play.segments:
            where += f", segments {', '.join(play.segments)}"
        eligible = row["eligible"] if "eligible" in row.index else None
        if eligible is not None and eligible == 0:
            notes.append(f"No account was ever eligible for the play {play.name}: none is in "
                         f"its {where} while it runs, so it cannot act. Check its tiers, "
                         "segments and start_month.")
        elif row["requested"] == 0:
            notes.append(f"The play {play.name} was never requested: no account in its "
                         f"{where} met its {_due(play)}, so it cannot act.")
        elif row["delivered"] == 0:
            notes.append(f"The play {play.name} was requested {count(row['requested'] / n)} "
                         "times per replication but never delivered: its team has no hours "
                         "for it (no CSMs, or all taken by higher-priority work).")
        elif row["dropped"] > DROPPED_SHARE * row["requested"]:
            notes.append(f"The play {play.name} lost "
                         f"{percent(row['dropped'] / row['requested'], digits=0)} of its "
                         "requests to waiting (dropped): its team is short of hours.")
    return notes
