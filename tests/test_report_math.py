"""Formulas of report pages as MathML (cs_sim.report._math), checked as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cs_sim.report._math import math_to_mathml, protect_math, restore_math

M = "{http://www.w3.org/1998/Math/MathML}"


def test_a_fraction_becomes_mfrac_with_numerator_and_denominator() -> None:
    root = ET.fromstring(math_to_mathml(r"\frac{a}{b}", display=True))
    assert root.tag == f"{M}math" and root.get("display") == "block"
    assert root.get("alttext") == r"\frac{a}{b}"
    frac = root.find(f".//{M}mfrac")
    assert frac is not None
    assert ["".join(c.itertext()) for c in frac] == ["a", "b"]


def test_inline_and_display_math_are_told_apart_and_code_is_left_alone() -> None:
    store: dict[str, str] = {}
    text = "Churn $c$ per month; `$HOME` stays; price \\$5.\n\n$$x^2$$"
    protected = protect_math(text, store)
    assert "`$HOME`" in protected and "\\$5" in protected
    assert "$" not in protected.replace("`$HOME`", "").replace("\\$5", "")
    assert len(store) == 2
    page = restore_math(f"<p>{protected}</p>", store)
    assert page.count("<math ") == 2
    assert page.count('display="block"') == 1
    sup = ET.fromstring(store[sorted(store)[1]]).find(f".//{M}msup")
    assert ["".join(c.itertext()) for c in sup] == ["x", "2"]


def test_a_formula_that_does_not_convert_stays_as_its_tex() -> None:
    out = math_to_mathml(r"\frac{a}{", display=False)
    assert out.startswith("<code>") and r"\frac{a}{" in out
