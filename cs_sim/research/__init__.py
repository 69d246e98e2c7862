"""Customer research: usage patterns, support tickets, surveys and qualitative feedback.

:func:`analyse_research` runs every analysis the dataset's tables allow, by segment, and
returns a :class:`ResearchResult` that renders itself:

- usage patterns (:mod:`cs_sim.research._patterns`): adoption by segment and month,
  adoption curves by months since signup, seats used vs bought, feature use;
- support tickets: volume, categories, first-contact resolution, handle time, repeat
  (reopen) patterns;
- surveys: NPS, CSAT and CES by segment with intervals, and their trend;
- qualitative feedback (:mod:`cs_sim.research._feedback`): open comments coded into the
  themes of an editable taxonomy (``templates/feedback_themes.yaml``), counts and quotes
  by segment and by promoter/detractor, top pain points, uncoded comments, and the
  product-team digest (themes ranked by the MRR raising them and by their link to churn).

:func:`dataset_overview` is the first look at a dataset: its tables, rows, months,
accounts, MRR and segments (:mod:`cs_sim.research._overview`).

An analysis whose optional table is missing is None in the result and explained in
``ResearchResult.unavailable``. The interview guide and the interview-notes template
for the qualitative side are ``templates/interview_guide.md`` and
``templates/interview_notes_template.md``.
"""

from __future__ import annotations

from cs_sim.research._feedback import THEME_OWNERS
from cs_sim.research._overview import DatasetOverview, dataset_overview
from cs_sim.research._result import ResearchResult, analyse_research

__all__ = ["THEME_OWNERS", "DatasetOverview", "ResearchResult", "analyse_research",
           "dataset_overview"]
