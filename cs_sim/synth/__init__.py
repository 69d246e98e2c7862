"""Synthetic company generator: the simulator run over a past period, exported as data.

One behavioural model, two uses: a synthetic company *is* one replication of the
simulator run with the as-is policy over a past period, recorded account by account
(:func:`cs_sim.sim.run_history`) and written out as the canonical tables (accounts,
mrr, usage, tickets, surveys, trials, interactions, costs). Beside the tables,
``ground_truth.json`` holds the parameters used (the full scenario, the seed, the
engine version and the behavioural parameters a calibration must recover).

What comes from the engine and what is added here
-------------------------------------------------
The engine's own numbers are exported unchanged: which accounts exist and when they
start, their segment, contract, employees, tier, monthly MRR (so the MRR bridge of the
``mrr`` table *is* the engine's bridge), active users and seats, tickets (first-contact
or not, contacts, handle time), NPS and CSAT answers, plays delivered and the
CS costs (the recorded details are drawn by :mod:`cs_sim.sim.record`). This package
adds, from its own random streams (which never feed back into the dynamics), what the
engine has no opinion on:

- firmographics without effect: company names, industry, region, plan name (from the
  segment's price per seat), CSM ids (a named CSM per account in a tier served by CSM
  plays);
- dates inside a month (signup, tickets opened/resolved, survey answers, touchpoints);
- ticket categories and resolution delays; tickets whose resolution would fall after
  the period are left open (``resolved_at`` missing);
- customer-effort (CES) answers after resolved tickets, DAU/WAU;
- open comments on survey answers, drawn from ``resources/survey_comments.yaml`` by
  theme and sentiment (themes of the default feedback taxonomy; the state of the
  account makes some themes likelier: early tenure -> onboarding, failed tickets ->
  support and reliability, low usage -> ease of use);
- trials: every account won during the period had a trial ending in its first paid
  month; trial prospects that never converted are added to ``accounts`` (no MRR);
- support cost (handle time x an hourly rate).

Period and ids
--------------
Month 0 of the run's horizon is the first month of the data (``start_month``); every
table covers ``months`` months. The run's warm-up (``warmup_months``, 36 by default)
comes before it and is not exported: the customers of month 0 are those alive after
it, in the steady state of the as-is policy. They signed up earlier (``signup_date``
before the period; their earlier history is not in the data, as in most exports).
Account ids are given in order of signup date.

Random numbers
--------------
The run uses the engine's streams for ``(seed, replication)``; the generator's own
streams are :func:`cs_sim.sim.rng.synth_generator`, disjoint from the engine's. Same
seed and options, byte-identical files.

Modules
-------
``params`` (:class:`SynthParams`), ``tables`` (the canonical tables from the record),
``comments`` (survey comments), ``truth`` (ground truth), ``readme`` (the README, from
a jinja2 template), ``write`` (writing, manifest, move into place) and ``company``
(:func:`generate_company`, :func:`generate`).
"""

from __future__ import annotations

from cs_sim.synth.company import (
    SyntheticCompany,
    default_scenario_path,
    generate,
    generate_company,
)
from cs_sim.synth.params import DEFAULT_SCENARIO, GENERATOR_VERSION, SynthParams
from cs_sim.synth.readme import headline_kpis_text
from cs_sim.synth.truth import ground_truth, load_ground_truth, scenario_from_ground_truth
from cs_sim.synth.write import write_company

__all__ = [
    "DEFAULT_SCENARIO",
    "GENERATOR_VERSION",
    "SynthParams",
    "SyntheticCompany",
    "default_scenario_path",
    "generate",
    "generate_company",
    "ground_truth",
    "headline_kpis_text",
    "load_ground_truth",
    "scenario_from_ground_truth",
    "write_company",
]
