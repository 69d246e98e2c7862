"""Formulas of a report page as MathML, so that they show without MathJax or a network.

JupyterLab typesets the notebooks' ``$...$`` and ``$$...$$`` with MathJax, which a page
opened from disk (offline, or mailed to a client) cannot load. Browsers draw MathML
themselves, so each formula of a Markdown cell is converted with ``latex2mathml``
before the page is written. A formula that does not convert is kept as its TeX source
in a ``<code>`` element, never dropped.
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["math_to_mathml", "protect_math", "restore_math"]

# display math first, then inline math: a $ not escaped and not part of $$, no newline
_MATH = re.compile(r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\n]+?)\$(?!\$)",
                   re.DOTALL)
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)


def math_to_mathml(tex: str, *, display: bool) -> str:
    """One formula as a MathML element (its TeX source as alternative text).

    Parameters
    ----------
    tex : str
        The formula without its dollar signs.
    display : bool
        A formula on its own line (``$$``) rather than inside the text (``$``).

    Returns
    -------
    str
        ``<math ...>...</math>``, or ``<code>`` with the TeX when it cannot be converted.

    Examples
    --------
    >>> math_to_mathml(r"\\frac{1}{2}", display=False)[:46]
    '<math xmlns="http://www.w3.org/1998/Math/MathM'
    """
    from latex2mathml.converter import convert

    try:
        out = convert(tex.strip(), display="block" if display else "inline")
    except Exception:
        return f"<code>{html.escape(tex)}</code>"
    alt = html.escape(" ".join(tex.split()), quote=True)
    return out.replace("<math ", f'<math alttext="{alt}" ', 1)


def protect_math(text: str, store: dict[str, str]) -> str:
    """Replace the formulas of a Markdown text by placeholders, their MathML in ``store``.

    The placeholders (letters and digits) pass through the Markdown converter untouched;
    :func:`restore_math` puts the MathML back into the finished page. Code spans and
    fenced code are left alone.

    Parameters
    ----------
    text : str
        A Markdown cell's source.
    store : dict
        Filled with placeholder -> MathML.

    Returns
    -------
    str
    """
    def one(match: re.Match[str]) -> str:
        display = match.group("display") is not None
        key = f"CSSIMMATH{len(store):05d}X"
        store[key] = math_to_mathml(match.group("display" if display else "inline"),
                                    display=display)
        return key

    parts = _CODE.split(text)
    return "".join(p if i % 2 else _MATH.sub(one, p) for i, p in enumerate(parts))


def restore_math(page: str, store: dict[str, Any]) -> str:
    """Put the MathML of :func:`protect_math` back into a finished HTML page."""
    if not store:
        return page
    return re.sub(r"CSSIMMATH\d{5}X", lambda m: store.get(m.group(0), m.group(0)), page)
