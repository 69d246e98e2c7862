"""``Calibration``: the result of :func:`cs_sim.calibrate`, which renders itself."""

from __future__ import annotations

import json
import math
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.format import count, html_escaped, style_frame, to_jsonable, write_files

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.scenario import Scenario

__all__ = ["Calibration", "number"]

_WIDTH = 96


def number(value: Any) -> str:
    """An estimate for people: 4 significant digits, never in e-notation (``n/a``: none)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(v):
        return "n/a"
    text = np.format_float_positional(v, precision=4, unique=False, fractional=False,
                                      trim="-")
    return text.rstrip(".")


@dataclass(frozen=True)
class Calibration:
    """A calibrated baseline (see :func:`cs_sim.calibrate`).

    Attributes
    ----------
    data : dict
        The baseline scenario as plain data (point estimates).
    estimates : DataFrame
        Index ``path`` (the scenario field, e.g. ``segments.smb.churn_intercept``);
        columns ``estimate``, ``std_err`` (NaN: none, e.g. a convention or a moment
        estimate), ``draw_sd`` (the sd of the distribution the scenario draws it from
        with ``uncertainty``: the standard error given the model's other estimates),
        ``method`` and ``n`` (rows, decisions or accounts it rests on).
    notes : list of str
        What the data could not identify and what was done instead.
    source : str
    months : (str, str)
        First and last month of the data.
    n_customers : int
    segment_column, tier_column : str or None
        The accounts columns of the segment and tier labels.
    uncertainty : bool
        Whether :attr:`scenario` carries the estimates' uncertainty as distributions.
    delay_days : int or None
        Days from signup to first payment used to date the lives of customers already
        paying in the first month.
    """

    data: dict[str, Any]
    estimates: pd.DataFrame
    notes: list[str]
    source: str
    months: tuple[str, str]
    n_customers: int
    segment_column: str | None = None
    tier_column: str | None = None
    uncertainty: bool = False
    delay_days: int | None = None
    _cache: dict[bool, Scenario] = field(default_factory=dict, repr=False, compare=False)

    # ---------------------------------------------------------------- the scenario
    def to_scenario(self, *, uncertainty: bool | None = None) -> Scenario:
        """The baseline as a validated :class:`~cs_sim.sim.scenario.Scenario`.

        Parameters
        ----------
        uncertainty : bool, optional
            With each estimate that has a standard error as a truncated normal
            distribution (default: as calibrated).
        """
        from cs_sim.calibration._calibrate import scenario_with
        from cs_sim.sim.scenario_io import scenario_from_dict

        u = self.uncertainty if uncertainty is None else bool(uncertainty)
        if u not in self._cache:
            data = scenario_with(self.data, self.estimates, uncertainty=u)
            self._cache[u] = scenario_from_dict(data, source=str(data["name"]))
        return self._cache[u]

    @property
    def scenario(self) -> Scenario:
        """The baseline scenario (segments named by the dataset's own labels)."""
        return self.to_scenario()

    @property
    def segments(self) -> list[str]:
        """The segment names."""
        return [str(s["name"]) for s in self.data["segments"]]

    def scenario_yaml(self, path: str | os.PathLike[str] | None = None, *,
                      uncertainty: bool | None = None) -> str:
        """The baseline as a scenario YAML that ``cs-sim simulate`` reads.

        Parameters
        ----------
        path : str or path, optional
            Also write it there; ``population.dataset`` is then written relative to the
            file's folder.
        uncertainty : bool, optional
            Write the distributions (default: as calibrated).

        Returns
        -------
        str
            The YAML text.
        """
        from cs_sim._yaml import dump_yaml_mapping
        from cs_sim.calibration._calibrate import scenario_with

        u = self.uncertainty if uncertainty is None else bool(uncertainty)
        data = scenario_with(self.data, self.estimates, uncertainty=u)
        data.pop("extends", None)
        folder = data["population"].get("dataset")
        if path is not None and folder:
            target = Path(path).resolve().parent
            try:
                data["population"]["dataset"] = os.path.relpath(folder, target)
            except ValueError:  # another drive: keep it absolute
                pass
        header = (f"Baseline calibrated by cs_sim.calibrate on {self.source} "
                  f"({self.months[0]} .. {self.months[1]}).\n"
                  "Each estimate, its standard error and method: cs-sim calibrate --json.\n"
                  "Starts from the dataset's customers in its last month (population: "
                  "dataset).")
        text = dump_yaml_mapping(data, header=header)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # ---------------------------------------------------------------- rendering
    def to_frame(self) -> pd.DataFrame:
        """The estimates (a copy): index ``path``; estimate, std_err, draw_sd, method, n."""
        return self.estimates.copy()

    def _split(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per-segment parameters (rows) by segment (columns), and the shared ones."""
        est = self.estimates
        segs = self.segments
        per: dict[str, dict[str, str]] = {}
        shared = []
        for path, row in est.iterrows():
            p = str(path)
            name = next((s for s in segs if p.startswith(f"segments.{s}.")), None)
            cell = number(row["estimate"])
            if math.isfinite(row["std_err"]):
                cell += f" ({number(row['std_err'])})"
            if name is None:
                shared.append({"parameter": p, "estimate": number(row["estimate"]),
                               "std_err": number(row["std_err"]), "n": count(row["n"]),
                               "method": row["method"]})
                continue
            per.setdefault(p[len(f"segments.{name}."):], {})[name] = cell
        seg_frame = pd.DataFrame.from_dict(per, orient="index").reindex(columns=segs)
        seg_frame = seg_frame.fillna("")
        seg_frame.index.name = "parameter"
        return seg_frame, pd.DataFrame(shared).set_index("parameter") if shared else \
            pd.DataFrame(columns=["estimate", "std_err", "n", "method"])

    def _heading(self) -> str:
        segs = ", ".join(self.segments)
        by = f"column {self.segment_column}" if self.segment_column else "one segment"
        return (f"Calibrated baseline of {self.source}: {self.months[0]} .. {self.months[1]}, "
                f"{count(self.n_customers)} customers; segments {segs} ({by}). Each figure "
                "is the estimate with its standard error in brackets.")

    def to_text(self) -> str:
        """The estimates as plain text: per segment, then shared, then the notes."""
        seg, shared = self._split()
        parts = [textwrap.fill(self._heading(), width=_WIDTH), "",
                 "Per segment", seg.to_string(), "", "Shared"]
        cols = [c for c in ("estimate", "std_err", "n") if c in shared.columns]
        parts.append(shared[cols].to_string())
        parts += ["", "Notes"]
        parts += [textwrap.fill(f"- {n}", width=_WIDTH, subsequent_indent="  ")
                  for n in self.notes]
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: source, months, segments, notes, estimates (raw numbers), scenario."""
        rows = {str(k): {"estimate": r["estimate"], "std_err": r["std_err"],
                         "draw_sd": r["draw_sd"],
                         "method": r["method"], "n": r["n"]}
                for k, r in self.estimates.iterrows()}
        return to_jsonable({
            "source": self.source, "months": list(self.months),
            "customers": self.n_customers, "segments": self.segments,
            "segment_column": self.segment_column, "tier_column": self.tier_column,
            "notes": list(self.notes), "estimates": rows, "scenario": self.data,
        })

    def _repr_html_(self) -> str:
        from html import escape

        seg, shared = self._split()
        notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes)
        return (f"<p>{escape(self._heading())}</p>"
                + style_frame(html_escaped(seg)).to_html()
                + style_frame(html_escaped(shared)).to_html()
                + f"<ul>{notes}</ul>")

    def write(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Write calibration.json, calibration.txt, estimates.csv and baseline.yaml.

        Returns
        -------
        list of pathlib.Path
        """
        out = Path(out_dir)
        files = {
            "calibration.json": json.dumps(self.to_dict(), indent=2) + "\n",
            "calibration.txt": self.to_text() + "\n",
            "estimates.csv": self.estimates.to_csv(),
        }
        written = write_files(out, files)
        yaml_path = out / "baseline.yaml"
        self.scenario_yaml(yaml_path)
        return [*written, yaml_path]

    def __repr__(self) -> str:
        return (f"Calibration(source={self.source!r}, months={self.months[0]}..{self.months[1]}"
                f", segments={self.segments}, estimates={len(self.estimates)})")
