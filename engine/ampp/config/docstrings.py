"""The docstrings of config fields, read from the models' source for generated documentation
(the README's config reference, the operator's CRD descriptions), never at run time."""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import textwrap

from pydantic import BaseModel

__all__ = ["field_docstrings"]


@functools.cache
def field_docstrings(model: type[BaseModel]) -> dict[str, str]:
    """Each field's docstring (the string under its annotation), from the model or the nearest
    base that documents it: the models do not keep them (pydantic's ``use_attribute_docstrings``
    would read the source at every start-up)."""
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not issubclass(cls, BaseModel) or cls is BaseModel:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for stmt, after in itertools.pairwise(body):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                found[stmt.target.id] = after.value.value
    return found
