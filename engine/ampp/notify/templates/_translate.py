"""Go text/template (parsed by _parse) to Jinja2 source that renders the same text.

The generated template keeps Go's line numbers (line N of the Go definition is line N of the
Jinja source), so an error in Jinja names the line of the Go file. Go's semantics that Jinja
lacks live in runtime helpers, called as filters (Jinja calls filters directly, without the
context.call of function calls): ``_gf`` for Go's field/method/map lookup, ``_items`` for
range, ``_tmpl`` for {{template}}, ``_fn_<name>`` for the functions; Go's
truthiness is Python's for the values templates see, so if/with/and/or/not map directly.

In HTML mode the translation also follows html/template: it tracks where each action lands in
the HTML (see _htmlctx) and wraps it in the escapers Go would, drops comments from the text,
and calls each {{template}} in the context of the call site.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from . import _htmlctx as hc
from ._errors import TemplateError
from ._parse import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    Definition,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    VariableNode,
    WithNode,
)

_UNSAFE_TEXT = ("{{", "{%", "{#", "\r")


@dataclass
class Translation:
    source: str
    literals: list[str] = field(default_factory=list)
    end: hc.Context | None = None


CalleeContext = Callable[[str, hc.Context, int], hc.Context]
"""(template name, context at the call, line of the call) -> context after the call."""


class Translator:
    """Translates one definition. ``html`` selects html/template semantics, starting in
    ``start``; ``callee`` computes the output context of a called template."""

    def __init__(
        self,
        definition: Definition,
        file: str,
        html: bool = False,
        start: hc.Context = hc.TEXT_CONTEXT,
        callee: CalleeContext | None = None,
    ) -> None:
        self.d = definition
        self.file = file
        self.html = html
        self.start = start
        self.callee = callee
        self.parts: list[str] = []
        self.line = 1  # the Jinja line being written
        self.literals: list[str] = []
        self.uses_vars = False

    # --- output -------------------------------------------------------------------------

    def _target(self, go_line: int) -> int:
        return go_line - self.d.line + 1

    def _pad(self, go_line: int) -> str:
        n = self._target(go_line) - self.line
        if n > 0:
            self.line += n
            return "\n" * n
        return ""

    def _tag(self, open_: str, body: str, close: str, go_line: int) -> None:
        pad = self._pad(go_line)
        self.parts.append(f"{open_}{pad} {body} {close}")

    def _stmt(self, body: str, go_line: int) -> None:
        self._tag("{%", body, "%}", go_line)

    def _out(self, expr: str, go_line: int) -> None:
        self._tag("{{", expr, "}}", go_line)

    def _text(self, text: str, go_line: int) -> None:
        pad = self._pad(go_line)
        if pad:
            self.parts.append("{#" + pad + "#}")
        if not text:
            return
        newlines = text.count("\n")
        if any(u in text for u in _UNSAFE_TEXT) or text.endswith("{"):
            self.literals.append(text)
            self.parts.append(f"{{{{ _L[{len(self.literals) - 1}]{chr(10) * newlines} }}}}")
        else:
            self.parts.append(text)
        self.line += newlines

    def error(self, reason: str, line: int) -> TemplateError:
        return TemplateError(reason, file=self.file, line=line)

    # --- entry --------------------------------------------------------------------------

    def translate(self) -> Translation:
        end = self._list(self.d.root, self.start)
        body = "".join(self.parts)
        if self.uses_vars:
            body = "{% set _v = namespace() %}" + body
        return Translation(body, self.literals, end if self.html else None)

    # --- nodes --------------------------------------------------------------------------

    def _list(self, lst: ListNode | None, ctx: hc.Context) -> hc.Context:
        if lst is None:
            return ctx
        for n in lst.nodes:
            ctx = self._node(n, ctx)
        return ctx

    def _node(self, n: Node, ctx: hc.Context) -> hc.Context:
        if isinstance(n, TextNode):
            text = n.text
            if self.html:
                ctx, text = hc.escape_text(ctx, text)
                if ctx.state == hc.ERROR:
                    raise self.error(f"html/template: {ctx.err}", n.line)
            self._text(text, n.line)
            return ctx
        if isinstance(n, CommentNode):
            return ctx
        if isinstance(n, ActionNode):
            return self._action(n, ctx)
        if isinstance(n, IfNode | WithNode):
            return self._if_with(n, ctx)
        if isinstance(n, RangeNode):
            return self._range(n, ctx)
        if isinstance(n, TemplateNode):
            return self._template(n, ctx)
        if isinstance(n, BreakNode):
            self._stmt("break", n.line)
            return ctx
        if isinstance(n, ContinueNode):
            self._stmt("continue", n.line)
            return ctx
        raise self.error(f"cannot translate {type(n).__name__}", n.line)

    def _decl_stmts(self, pipe: PipeNode, value: str) -> str | None:
        """Jinja to store a pipeline's value in its declared variables; None if it has none."""
        if not pipe.decl:
            return None
        self.uses_vars = True
        v = pipe.decl[-1]
        if v.slot is None:
            return f"set _v.undefined_ = {self._fail(f'undefined variable: {v.name}')}"
        return f"set _v.{v.slot} = {value}"

    def _action(self, n: ActionNode, ctx: hc.Context) -> hc.Context:
        pipe = n.pipe
        if pipe.decl:
            stmt = self._decl_stmts(pipe, self._pipe(pipe))
            assert stmt is not None
            self._stmt(stmt, n.line)
            return ctx
        if not self.html:
            value = self._pipe(pipe)
            if len(pipe.cmds) == 1 and len(pipe.cmds[0].args) == 1 and _is_dot(pipe.cmds[0].args[0]):
                value = f"({value})|_no_value"  # a nil "." prints as <no value>
            self._out(value, n.line)
            return ctx
        ctx = hc.nudge(ctx)
        cmds = pipe.cmds
        for i, cmd in enumerate(cmds):
            head = cmd.args[0]
            if isinstance(head, IdentifierNode) and head.name in ("html", "urlquery") and i < len(cmds) - 1:
                raise self.error(
                    f'html/template: predefined escaper "{head.name}" disallowed in template', n.line
                )
        try:
            escapers = hc.escapers_for(ctx)
        except hc.UnsupportedContext as e:
            raise self.error(f"html/template: {{{{{pipe.source}}}}} {e}", n.line) from None
        last = cmds[-1].args[0]
        last_ident = last.name if isinstance(last, IdentifierNode) else None
        if last_ident in ("html", "urlquery") and len(cmds) == 1 and len(cmds[0].args) > 1:
            # {{html a b}}: the arguments are evaluated, then escaped as one value
            value = self._call("print", [self._arg(a) for a in cmds[0].args[1:]])
            escapers, _ = hc.merge_predefined(last_ident, escapers)
            if last_ident not in escapers:
                escapers = [last_ident, *escapers]
        else:
            escapers, dup = hc.merge_predefined(last_ident, escapers)
            if dup:
                value = self._pipe(PipeNode(pipe.line, [], False, cmds[:-1])) if len(cmds) > 1 else "None"
            else:
                value = self._pipe(pipe)
        names = ", ".join(repr(e) for e in escapers) + ("," if len(escapers) == 1 else "")
        self._out(f"({value})|_esc(({names}))", n.line)
        return ctx

    def _if_with(self, n: BranchNode, ctx: hc.Context) -> hc.Context:
        is_with = isinstance(n, WithNode)
        value = self._pipe(n.pipe)
        stmt = self._decl_stmts(n.pipe, value)
        if stmt is not None:
            self._stmt(stmt, n.line)
            value = f"_v.{n.pipe.decl[-1].slot}" if n.pipe.decl[-1].slot else "None"
        if is_with:
            self._stmt(f"with _w = {value}", n.line)
            self._stmt("if _w", n.line)
            self._stmt("with dot = _w", n.line)
        else:
            self._stmt(f"if {value}", n.line)
        c_body = self._list(n.list, ctx)
        if is_with:
            self._stmt("endwith", n.line)
        c_else = ctx
        if n.else_list is not None:
            self._stmt("else", n.else_list.line)
            c_else = self._list(n.else_list, ctx)
        self._stmt("endif", n.line)
        if is_with:
            self._stmt("endwith", n.line)
        if not self.html:
            return ctx
        out = hc.join(c_body, c_else, "with" if is_with else "if")
        if out.state == hc.ERROR:
            raise self.error(f"html/template: {out.err}", n.line)
        return out

    def _range(self, n: RangeNode, ctx: hc.Context) -> hc.Context:
        value = self._pipe(n.pipe)
        self._stmt(f"for _k, dot in ({value})|_items", n.line)
        decl = n.pipe.decl
        if decl:
            self.uses_vars = True
            if len(decl) == 1:
                self._stmt(f"set _v.{decl[0].slot} = dot", n.line)
            else:
                self._stmt(f"set _v.{decl[0].slot} = _k", n.line)
                self._stmt(f"set _v.{decl[1].slot} = dot", n.line)
        c0 = self._list(n.list, ctx)
        if self.html and c0.state != hc.ERROR:
            # the body may run again: it must end where it started
            saved = (self.parts, self.line, self.literals, self.uses_vars)
            self.parts, self.literals = [], []
            try:
                c1 = self._list(n.list, c0)
            finally:
                self.parts, self.line, self.literals, self.uses_vars = saved
            joined = hc.join(c0, c1, "range")
            if joined.state == hc.ERROR:
                raise self.error(f"html/template: on range loop re-entry: {joined.err}", n.line)
            c0 = joined
        c_else = ctx
        if n.else_list is not None:
            self._stmt("else", n.else_list.line)
            c_else = self._list(n.else_list, ctx)
        self._stmt("endfor", n.line)
        if not self.html:
            return ctx
        out = hc.join(c0, c_else, "range")
        if out.state == hc.ERROR:
            raise self.error(f"html/template: {out.err}", n.line)
        return out

    def _template(self, n: TemplateNode, ctx: hc.Context) -> hc.Context:
        value = self._pipe(n.pipe) if n.pipe is not None else "None"
        if not self.html:
            self._out(f"({value})|_tmpl({n.name!r})", n.line)
            return ctx
        assert self.callee is not None
        end = self.callee(n.name, ctx, n.line)
        self._out(f"({value})|_tmpl_h({n.name!r}, {ctx.key()!r})", n.line)
        return end

    # --- expressions --------------------------------------------------------------------

    @staticmethod
    def _fail(msg: str) -> str:
        return f"_go.fail({msg!r})"

    def _pipe(self, pipe: PipeNode) -> str:
        value: str | None = None
        for cmd in pipe.cmds:
            value = self._cmd(cmd, value)
        assert value is not None
        return value

    def _var(self, v: VariableNode) -> str:
        if v.name == "$":
            return "_root"
        if v.slot is None:
            return self._fail(f"undefined variable: {v.name}")
        self.uses_vars = True
        return f"_v.{v.slot}"

    @staticmethod
    def _call(name: str, args: list[str]) -> str:
        """A call of Go function ``name``: as a filter on its first argument when it has one."""
        if not args:
            return f"_fn_{name}()"
        return f"({args[0]})|_fn_{name}({', '.join(args[1:])})"

    @staticmethod
    def _field(base: str, idents: list[str], args: list[str]) -> str:
        return f"({base})|_gf({', '.join([repr('.'.join(idents)), *args])})"

    def _cmd(self, cmd: CommandNode, final: str | None) -> str:
        head, rest = cmd.args[0], cmd.args[1:]
        args = [self._arg(a) for a in rest]
        if final is not None:
            args.append(final)
        if isinstance(head, FieldNode):
            return self._field("dot", head.idents, args)
        if isinstance(head, ChainNode):
            return self._field(self._operand(head.node), head.idents, args)
        if isinstance(head, IdentifierNode):
            name = head.name
            if name in ("and", "or"):
                if not args:
                    return self._fail(f"wrong number of args for {name}: want at least 1 got 0")
                return "(" + f" {name} ".join(args) + ")"
            if name == "not":
                if len(args) != 1:
                    return self._fail(f"wrong number of args for not: want 1 got {len(args)}")
                return f"(not {args[0]})"
            return self._call(name, args)
        if isinstance(head, VariableNode):
            base = self._var(head)
            if head.idents:
                return self._field(base, head.idents, args)
            if args:
                return self._fail(f"can't give argument to non-function {head.name}")
            return base
        if isinstance(head, NilNode):
            return self._fail("nil is not a command")
        if args:
            return self._fail(f"can't give argument to non-function {_describe(head)}")
        return self._operand(head)

    def _operand(self, node: Node) -> str:
        if isinstance(node, PipeNode):
            return "(" + self._pipe(node) + ")"
        return self._arg(node)

    def _arg(self, node: Node) -> str:
        if isinstance(node, DotNode):
            return "dot"
        if isinstance(node, NilNode):
            return "None"
        if isinstance(node, BoolNode):
            return "true" if node.value else "false"
        if isinstance(node, NumberNode):
            if isinstance(node.value, float) and not math.isfinite(node.value):
                return f"_go.number({node.value!r})"
            return repr(node.value)
        if isinstance(node, StringNode):
            return repr(node.value)
        if isinstance(node, FieldNode):
            return self._field("dot", node.idents, [])
        if isinstance(node, VariableNode):
            base = self._var(node)
            return self._field(base, node.idents, []) if node.idents else base
        if isinstance(node, ChainNode):
            return self._field(self._operand(node.node), node.idents, [])
        if isinstance(node, PipeNode):
            return "(" + self._pipe(node) + ")"
        if isinstance(node, IdentifierNode):
            if node.name in ("and", "or", "not"):
                return self._fail(f"wrong number of args for {node.name}: want at least 1 got 0")
            return self._call(node.name, [])
        raise TemplateError(
            f"cannot translate argument {type(node).__name__}", file=self.file, line=node.line
        )


def _is_dot(node: Node) -> bool:
    return isinstance(node, DotNode) or (
        isinstance(node, VariableNode) and node.name == "$" and not node.idents
    )


def _describe(node: Node) -> str:
    if isinstance(node, StringNode):
        return node.quoted
    if isinstance(node, NumberNode):
        return node.text
    if isinstance(node, BoolNode):
        return "true" if node.value else "false"
    if isinstance(node, DotNode):
        return "."
    return type(node).__name__


def translate(
    definition: Definition,
    file: str,
    html: bool = False,
    start: hc.Context = hc.TEXT_CONTEXT,
    callee: CalleeContext | None = None,
) -> Translation:
    return Translator(definition, file, html, start, callee).translate()
