"""A Griffe extension: the library's docstrings use a few reStructuredText habits
(``:class:`Name```, ``:meth:`run```, a paragraph ending in ``::`` before an indented example).
Rendered as Markdown they would show the raw roles, so they are turned into code spans and a
plain colon before the API reference is generated. The docstrings themselves stay as they are
(they read well in ``help()`` and in editors)."""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj|const):`(~?)([^`]+)`")
LITERAL_INTRO = re.compile(r"(?<=\S)::$", re.M)


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def markdown(text: str) -> str:
    return LITERAL_INTRO.sub(":", ROLE.sub(_role, text))


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
