"""Conditions on earlier answers (`show_if`), parsed and evaluated safely, never with `eval`.

The language is a small subset of Python expressions over question codes:

    q1 == 'a'                      single choice answered with option code a
    q2 >= 4 and q3 != 'no'         numbers and Likert points compare as numbers
    'b' in q4                      multiple choice: option b was ticked
    q5 in ('a', 'b')               single choice is one of these
    not (q6 == 'yes') or q7 < 2.5

Python's own parser reads the text (`ast.parse(mode="eval")`); only the node types below are
accepted, so nothing else (calls, attributes, subscripts, arithmetic) can ever run. An answer
that was skipped or never given makes every comparison with it false.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


MAX_LENGTH = 500


class ConditionError(ValueError):
    """The condition text is not in the accepted language."""


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its source, the question codes it reads, and its tree."""

    source: str
    names: frozenset[str]
    tree: ast.Expression

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        """True when the condition holds for `answers` (question code -> answer value)."""
        return bool(_eval(self.tree.body, answers))


def parse(source: str) -> Condition:
    """Parse a condition, or raise `ConditionError` saying what is not allowed."""
    if len(source) > MAX_LENGTH:
        raise ConditionError(f"a condition has at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConditionError(f"not a valid condition: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ConditionError("the condition is nested too deeply") from None
    names: set[str] = set()
    try:
        _check(tree.body, names)
    except RecursionError:
        raise ConditionError("the condition is nested too deeply") from None
    return Condition(source=source, names=frozenset(names), tree=tree)


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, names)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise ConditionError(f"operator {type(op).__name__} is not allowed")
        _check(node.left, names)
        for comparator in node.comparators:
            _check(comparator, names)
    elif isinstance(node, ast.Name):
        names.add(node.id)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool) and node.value is not None:
            raise ConditionError(f"constant {node.value!r} is not allowed")
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts:
            if not isinstance(element, ast.Constant):
                raise ConditionError("lists may hold only constants")
    else:
        raise ConditionError(f"{type(node).__name__} is not allowed in a condition")


def _eval(node: ast.AST, answers: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, answers) for v in node.values)
        return any(_eval(v, answers) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return not _eval(node.operand, answers)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, answers)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, answers)
            if left is None or right is None:
                return False  # an unanswered question satisfies no comparison
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                return False  # e.g. a number compared with text: the condition is not met
            left = right
        return True
    if isinstance(node, ast.Name):
        return answers.get(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_eval(e, answers) for e in node.elts)
    raise ConditionError(f"{type(node).__name__} is not allowed in a condition")
