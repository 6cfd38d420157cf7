"""A parser for Go's text/template syntax: the lexer and grammar of text/template/parse.

It accepts what Go accepts and reports what Go rejects with Go's messages
(``unexpected EOF``, ``function "x" not defined``, ``undefined variable "$x"``, ...), with the
line. Variables are resolved here: each declaration gets a unique slot and every use names the
slot it reads, so the translation does not have to reproduce Go's scoping rules at run time.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Container

from ...model.labels import go_quote

# --- AST -----------------------------------------------------------------------------------
# Plain classes (not dataclasses): they are created at import, and the engine imports this early.


class Node:
    __slots__ = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={getattr(self, k)!r}" for c in type(self).__mro__ for k in getattr(c, "__slots__", ())
        )
        return f"{type(self).__name__}({fields})"


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, line: int, text: str) -> None:
        super().__init__(line)
        self.text = text


class CommentNode(Node):
    __slots__ = ()


class DotNode(Node):
    __slots__ = ()


class NilNode(Node):
    __slots__ = ()


class BoolNode(Node):
    __slots__ = ("value",)

    def __init__(self, line: int, value: bool) -> None:
        super().__init__(line)
        self.value = value


class NumberNode(Node):
    __slots__ = ("text", "value")

    def __init__(self, line: int, value: int | float, text: str) -> None:
        super().__init__(line)
        self.value = value
        self.text = text


class StringNode(Node):
    __slots__ = ("quoted", "value")

    def __init__(self, line: int, value: str, quoted: str) -> None:
        super().__init__(line)
        self.value = value
        self.quoted = quoted


class FieldNode(Node):
    __slots__ = ("idents",)

    def __init__(self, line: int, idents: list[str]) -> None:
        super().__init__(line)
        self.idents = idents


class VariableNode(Node):
    """``$x.Field...``: ``slot`` is the declaration it reads (None for "$", or when unknown)."""

    __slots__ = ("idents", "name", "slot")

    def __init__(self, line: int, name: str, slot: str | None, idents: list[str]) -> None:
        super().__init__(line)
        self.name = name
        self.slot = slot
        self.idents = idents


class IdentifierNode(Node):
    __slots__ = ("name",)

    def __init__(self, line: int, name: str) -> None:
        super().__init__(line)
        self.name = name


class ChainNode(Node):
    __slots__ = ("idents", "node")

    def __init__(self, line: int, node: Node, idents: list[str]) -> None:
        super().__init__(line)
        self.node = node
        self.idents = idents


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, line: int, args: list[Node]) -> None:
        super().__init__(line)
        self.args = args


class PipeNode(Node):
    __slots__ = ("cmds", "decl", "is_assign", "source")

    def __init__(
        self, line: int, decl: list[VariableNode], is_assign: bool, cmds: list[CommandNode], source: str = ""
    ) -> None:
        super().__init__(line)
        self.decl = decl
        self.is_assign = is_assign
        self.cmds = cmds
        self.source = source


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, line: int, nodes: list[Node] | None = None) -> None:
        super().__init__(line)
        self.nodes = nodes if nodes is not None else []


class ActionNode(Node):
    __slots__ = ("pipe",)

    def __init__(self, line: int, pipe: PipeNode) -> None:
        super().__init__(line)
        self.pipe = pipe


class BranchNode(Node):
    __slots__ = ("else_list", "list", "pipe")

    def __init__(self, line: int, pipe: PipeNode, list_: ListNode, else_list: ListNode | None) -> None:
        super().__init__(line)
        self.pipe = pipe
        self.list = list_
        self.else_list = else_list


class IfNode(BranchNode):
    __slots__ = ()


class RangeNode(BranchNode):
    __slots__ = ()


class WithNode(BranchNode):
    __slots__ = ()


class TemplateNode(Node):
    __slots__ = ("name", "pipe")

    def __init__(self, line: int, name: str, pipe: PipeNode | None) -> None:
        super().__init__(line)
        self.name = name
        self.pipe = pipe


class BreakNode(Node):
    __slots__ = ()


class ContinueNode(Node):
    __slots__ = ()


class Definition:
    """One named template: from {{define}}, {{block}}, or a file's top level."""

    __slots__ = ("line", "name", "root")

    def __init__(self, name: str, root: ListNode, line: int) -> None:
        self.name = name
        self.root = root
        self.line = line  # line of its body's start in the file

    def __repr__(self) -> str:
        return f"Definition({self.name!r}, line={self.line})"


def is_empty_tree(n: Node | None) -> bool:
    """parse.IsEmptyTree: only white space and comments (such a definition replaces nothing)."""
    if n is None or isinstance(n, CommentNode):
        return True
    if isinstance(n, ListNode):
        return all(is_empty_tree(x) for x in n.nodes)
    if isinstance(n, TextNode):
        return n.text.strip(" \t\n\r\v\f\x85\xa0") == ""
    return False


# --- lexer ---------------------------------------------------------------------------------

EOF, ERROR, TEXT, COMMENT, LEFT, RIGHT, SPACE = "EOF", "ERROR", "TEXT", "COMMENT", "LEFT", "RIGHT", "SPACE"
FIELD, IDENT, VARIABLE, STRING, RAW, CHARCONST, NUMBER, COMPLEX = (
    "FIELD",
    "IDENT",
    "VARIABLE",
    "STRING",
    "RAW",
    "CHARCONST",
    "NUMBER",
    "COMPLEX",
)
BOOL, PIPE, LPAREN, RPAREN, ASSIGN, DECLARE, CHAR = "BOOL", "PIPE", "(", ")", "=", ":=", "CHAR"
KEYWORDS = {
    ".": "DOT",
    "block": "BLOCK",
    "break": "BREAK",
    "continue": "CONTINUE",
    "define": "DEFINE",
    "else": "ELSE",
    "end": "END",
    "if": "IF",
    "nil": "NIL",
    "range": "RANGE",
    "template": "TEMPLATE",
    "with": "WITH",
}
_KEYWORD_TYPES = set(KEYWORDS.values())


class Item:
    __slots__ = ("line", "pos", "typ", "val")

    def __init__(self, typ: str, val: str, pos: int, line: int) -> None:
        self.typ = typ
        self.val = val
        self.pos = pos
        self.line = line

    def __str__(self) -> str:
        if self.typ == EOF:
            return "EOF"
        if self.typ == ERROR:
            return self.val
        if self.typ in _KEYWORD_TYPES:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


_SPACE = " \t\r\n"


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdigit()


class ParseError(Exception):
    def __init__(self, msg: str, line: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.line = line


class Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.items: list[Item] = []
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]
        self._run()

    def line_of(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def _emit(self, typ: str, val: str, pos: int) -> None:
        self.items.append(Item(typ, val, pos, self.line_of(pos)))

    def _error(self, msg: str, pos: int) -> None:
        raise ParseError(msg, self.line_of(pos))

    @staticmethod
    def _left_trim(s: str, i: int) -> bool:
        return len(s) >= i + 2 and s[i] == "-" and s[i + 1] in _SPACE

    @staticmethod
    def _right_trim(s: str, i: int) -> bool:
        return len(s) >= i + 2 and s[i] in _SPACE and s[i + 1] == "-"

    def _at_right(self, pos: int) -> tuple[bool, bool]:
        t = self.text
        if self._right_trim(t, pos) and t.startswith("}}", pos + 2):
            return True, True
        if t.startswith("}}", pos):
            return True, False
        return False, False

    def _run(self) -> None:
        t = self.text
        pos = 0
        n = len(t)
        while True:
            x = t.find("{{", pos)
            if x < 0:
                if pos < n:
                    self._emit(TEXT, t[pos:], pos)
                self._emit(EOF, "", n)
                return
            trim = self._left_trim(t, x + 2)
            chunk = t[pos:x]
            if trim:
                chunk = chunk.rstrip(_SPACE)
            if chunk:
                self._emit(TEXT, chunk, pos)
            pos = x + 2 + (2 if trim else 0)
            if t.startswith("/*", pos):
                end = t.find("*/", pos + 2)
                if end < 0:
                    self._error("unclosed comment", x)
                p2 = end + 2
                is_delim, rtrim = self._at_right(p2)
                if not is_delim:
                    self._error("comment ends before closing delimiter", x)
                self._emit(COMMENT, t[pos:p2], x)
                p2 += 4 if rtrim else 2
                if rtrim:
                    while p2 < n and t[p2] in _SPACE:
                        p2 += 1
                pos = p2
                continue
            self._emit(LEFT, "{{", x)
            pos = self._inside(pos)

    def _inside(self, pos: int) -> int:
        t = self.text
        n = len(t)
        depth = 0
        while True:
            is_delim, trim = self._at_right(pos)
            if is_delim:
                if depth:
                    self._error("unclosed left paren", pos)
                if trim:
                    pos += 2
                self._emit(RIGHT, "}}", pos)
                pos += 2
                if trim:
                    while pos < n and t[pos] in _SPACE:
                        pos += 1
                return pos
            if pos >= n:
                self._error("unclosed action", pos)
            c = t[pos]
            start = pos
            if c in _SPACE:
                while pos < n and t[pos] in _SPACE:
                    pos += 1
                # " -}}": the last space belongs to the delimiter
                if self._right_trim(t, pos - 1) and t.startswith("}}", pos + 1):
                    pos -= 1
                    if pos == start:
                        continue
                self._emit(SPACE, t[start:pos], start)
            elif c == "=":
                self._emit(ASSIGN, "=", pos)
                pos += 1
            elif c == ":":
                if not t.startswith(":=", pos):
                    self._error("expected :=", pos)
                self._emit(DECLARE, ":=", pos)
                pos += 2
            elif c == "|":
                self._emit(PIPE, "|", pos)
                pos += 1
            elif c == '"':
                pos += 1
                while True:
                    if pos >= n or t[pos] == "\n":
                        self._error("unterminated quoted string", start)
                    if t[pos] == "\\":
                        if pos + 1 >= n or t[pos + 1] == "\n":
                            self._error("unterminated quoted string", start)
                        pos += 2
                        continue
                    pos += 1
                    if t[pos - 1] == '"':
                        break
                self._emit(STRING, t[start:pos], start)
            elif c == "`":
                end = t.find("`", pos + 1)
                if end < 0:
                    self._error("unterminated raw quoted string", start)
                pos = end + 1
                self._emit(RAW, t[start:pos], start)
            elif c == "$":
                pos += 1
                pos = self._word(pos)
                self._emit(VARIABLE, t[start:pos], start)
            elif c == "'":
                pos += 1
                while True:
                    if pos >= n or t[pos] == "\n":
                        self._error("unterminated character constant", start)
                    if t[pos] == "\\":
                        if pos + 1 >= n or t[pos + 1] == "\n":
                            self._error("unterminated character constant", start)
                        pos += 2
                        continue
                    pos += 1
                    if t[pos - 1] == "'":
                        break
                self._emit(CHARCONST, t[start:pos], start)
            elif c == "." and not (pos + 1 < n and t[pos + 1].isdigit()):
                pos += 1
                if self._at_terminator(pos):
                    self._emit("DOT", ".", start)
                else:
                    pos = self._word(pos)
                    self._emit(FIELD, t[start:pos], start)
            elif c in "+-." or (c.isdigit() and c.isascii()):
                pos = self._number(pos)
            elif _is_alnum(c):
                end = pos
                while end < n and _is_alnum(t[end]):
                    end += 1
                word = t[pos:end]
                if not self._at_terminator(end):
                    self._error(f"bad character {_rune(t[end])}", end)
                if word in KEYWORDS:
                    self._emit(KEYWORDS[word], word, pos)
                elif word in ("true", "false"):
                    self._emit(BOOL, word, pos)
                else:
                    self._emit(IDENT, word, pos)
                pos = end
            elif c == "(":
                depth += 1
                self._emit(LPAREN, "(", pos)
                pos += 1
            elif c == ")":
                depth -= 1
                if depth < 0:
                    self._error("unexpected right paren", pos)
                self._emit(RPAREN, ")", pos)
                pos += 1
            elif c.isascii() and c.isprintable():
                self._emit(CHAR, c, pos)
                pos += 1
            else:
                self._error(f"unrecognized character in action: {_rune(c)}", pos)

    def _at_terminator(self, pos: int) -> bool:
        t = self.text
        if pos >= len(t):
            return True
        c = t[pos]
        if c in _SPACE or c in ".,|:)(":
            return True
        return t.startswith("}}", pos)

    def _word(self, pos: int) -> int:
        """The rest of a $variable or .field (an empty one is "$" alone)."""
        t = self.text
        if self._at_terminator(pos):
            return pos
        while pos < len(t) and _is_alnum(t[pos]):
            pos += 1
        if not self._at_terminator(pos):
            self._error(f"bad character {_rune(t[pos])}", pos)
        return pos

    def _number(self, pos: int) -> int:
        t = self.text
        start = pos
        ok, pos = _scan_number(t, pos)
        if not ok:
            self._error(f"bad number syntax: {go_quote(t[start:pos])}", start)
        if pos < len(t) and t[pos] in "+-":
            ok, pos = _scan_number(t, pos)
            if not ok or t[pos - 1] != "i":
                self._error(f"bad number syntax: {go_quote(t[start:pos])}", start)
            self._emit(COMPLEX, t[start:pos], start)
            return pos
        self._emit(NUMBER, t[start:pos], start)
        return pos


def _rune(c: str) -> str:
    """Go's %#U."""
    return f"U+{ord(c):04X} '{c}'" if c.isprintable() else f"U+{ord(c):04X}"


def _scan_number(t: str, pos: int) -> tuple[bool, int]:
    n = len(t)

    def accept(chars: str) -> bool:
        nonlocal pos
        if pos < n and t[pos] in chars:
            pos += 1
            return True
        return False

    def run(chars: str) -> None:
        nonlocal pos
        while pos < n and t[pos] in chars:
            pos += 1

    accept("+-")
    digits = "0123456789_"
    if accept("0"):
        if accept("xX"):
            digits = "0123456789abcdefABCDEF_"
        elif accept("oO"):
            digits = "01234567_"
        elif accept("bB"):
            digits = "01_"
    run(digits)
    if accept("."):
        run(digits)
    if len(digits) == 11 and accept("eE"):
        accept("+-")
        run("0123456789_")
    if len(digits) == 23 and accept("pP"):
        accept("+-")
        run("0123456789_")
    accept("i")
    if pos < n and _is_alnum(t[pos]):
        return False, pos + 1
    return True, pos


# --- literals ------------------------------------------------------------------------------

_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_ESC_RE = re.compile(
    r"\\(?:([abfnrtv\\'\"])|([0-7]{3})|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.S
)


def unquote(lit: str) -> str:
    """strconv.Unquote for "..." and `...` literals."""
    if lit.startswith("`"):
        return lit[1:-1].replace("\r", "")
    body = lit[1:-1]
    if "\\" not in body:
        return body

    def repl(m: re.Match[str]) -> str:
        simple, octal, hex2, u4, u8, bad = m.groups()
        if bad is not None:
            raise ValueError("invalid syntax")
        if simple is not None:
            if simple == "'":
                raise ValueError("invalid syntax")
            return _ESC.get(simple, simple)
        if octal is not None:
            v = int(octal, 8)
            if v > 255:
                raise ValueError("invalid syntax")
            return chr(0xDC00 + v) if v >= 0x80 else chr(v)
        if hex2 is not None:
            v = int(hex2, 16)
            return chr(0xDC00 + v) if v >= 0x80 else chr(v)
        cp = int(u4 or u8, 16)
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            raise ValueError("invalid syntax")
        return chr(cp)

    text = _ESC_RE.sub(repl, body)
    if any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        # bytes from \x and octal escapes: reassemble them as UTF-8
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def parse_char(lit: str) -> int:
    body = lit[1:-1]
    if body.startswith("\\"):
        if body[1:] == "'":
            return ord("'")
        if body[1:] == '"':
            raise ValueError("invalid syntax")
        s = unquote('"' + body + '"')
    else:
        s = body
    if len(s) != 1:
        raise ValueError(f"malformed character constant: {lit}")
    return ord(s)


def parse_number(text: str, typ: str) -> int | float:
    if typ == CHARCONST:
        return parse_char(text)
    s = text
    lower = s.lower().lstrip("+-")
    is_hex = lower.startswith("0x")
    if any(c in s for c in ".eEpP") and not (is_hex and not any(c in lower for c in ".p")):
        try:
            if is_hex:
                return float.fromhex(s.replace("_", ""))
            if "_" in s and not re.fullmatch(r"[+-]?\d+(_\d+)*(\.(\d+(_\d+)*)?)?([eE][+-]?\d+(_\d+)*)?", s):
                raise ValueError(s)
            return float(s)
        except (ValueError, OverflowError):
            raise ValueError(f"illegal number syntax: {go_quote(text)}") from None
    body = s.lstrip("+-")
    sign = -1 if s.startswith("-") else 1
    if re.fullmatch(r"0[0-7_]+", body):
        return sign * int(body.replace("_", ""), 8)
    try:
        return sign * int(body, 0)
    except ValueError:
        raise ValueError(f"illegal number syntax: {go_quote(text)}") from None


# --- parser --------------------------------------------------------------------------------


class _Scope:
    """The variables visible at a point, innermost last: (name, slot)."""

    def __init__(self) -> None:
        self.vars: list[tuple[str, str | None]] = [("$", None)]
        self.counter = 0

    def declare(self, name: str) -> str:
        self.counter += 1
        slot = f"{name[1:] or 'root'}_{self.counter}"
        self.vars.append((name, slot))
        return slot

    def lookup(self, name: str) -> tuple[bool, str | None]:
        for n, slot in reversed(self.vars):
            if n == name:
                return True, slot
        return False, None


class Parser:
    """Parses one file (or config field text) into its definitions.

    ``functions`` names the functions templates may call (Go checks at parse time).
    """

    def __init__(self, text: str, functions: Container[str], top_name: str) -> None:
        self.text = text
        self.functions = functions
        self.top_name = top_name
        self.items = Lexer(text).items
        self.i = 0
        self.scope = _Scope()
        self.range_depth = 0
        self.definitions: list[Definition] = []
        self.source_of: Callable[[int, int], str] = lambda a, b: text[a:b]

    # token stream
    def next(self) -> Item:
        it = self.items[min(self.i, len(self.items) - 1)]  # EOF repeats
        self.i += 1
        return it

    def backup(self, n: int = 1) -> None:
        self.i -= n

    def peek(self) -> Item:
        return self.items[min(self.i, len(self.items) - 1)]

    def next_non_space(self) -> Item:
        it = self.next()
        while it.typ == SPACE:
            it = self.next()
        return it

    def peek_non_space(self) -> Item:
        it = self.next_non_space()
        self.backup()
        return it

    def error(self, msg: str, line: int | None = None) -> ParseError:
        return ParseError(msg, self.peek().line if line is None else line)

    def unexpected(self, it: Item, context: str) -> ParseError:
        if it.typ == ERROR:
            return ParseError(it.val, it.line)
        return ParseError(f"unexpected {it} in {context}", it.line)

    def expect(self, typ: str, context: str) -> Item:
        it = self.next_non_space()
        if it.typ != typ:
            raise self.unexpected(it, context)
        return it

    # grammar
    def parse(self) -> list[Definition]:
        root = ListNode(1)
        while self.peek().typ != EOF:
            if self.peek().typ == LEFT:
                mark = self.i
                self.next()
                if self.next_non_space().typ == "DEFINE":
                    self._definition()
                    continue
                self.i = mark
            n = self._text_or_action()
            if isinstance(n, _End | _Else):
                raise ParseError(f"unexpected {n}", n.line)
            root.nodes.append(n)
        self._add(Definition(self.top_name, root, 1))
        return self.definitions

    def _add(self, d: Definition) -> None:
        for i, old in enumerate(self.definitions):
            if old.name == d.name:
                if is_empty_tree(old.root):
                    self.definitions[i] = d
                    return
                if not is_empty_tree(d.root):
                    raise ParseError(f"template: multiple definition of template {go_quote(d.name)}", d.line)
                return
        self.definitions.append(d)

    def _definition(self) -> None:
        ctx = "define clause"
        name_it = self.next_non_space()
        if name_it.typ not in (STRING, RAW):
            raise self.unexpected(name_it, ctx)
        try:
            name = unquote(name_it.val)
        except ValueError:
            raise ParseError("invalid syntax", name_it.line) from None
        right = self.expect(RIGHT, ctx)
        saved_scope, saved_depth = self.scope, self.range_depth
        self.scope, self.range_depth = _Scope(), 0
        body, end = self._item_list()
        self.scope, self.range_depth = saved_scope, saved_depth
        if not isinstance(end, _End):
            raise ParseError(f"unexpected {end} in {ctx}", end.line)
        self._add(Definition(name, body, right.line))

    def _item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek_non_space().line)
        while self.peek_non_space().typ != EOF:
            n = self._text_or_action()
            if isinstance(n, _End | _Else):
                return lst, n
            lst.nodes.append(n)
        raise self.error("unexpected EOF")

    def _text_or_action(self) -> Node:
        it = self.next_non_space()
        if it.typ == TEXT:
            return TextNode(it.line, it.val)
        if it.typ == LEFT:
            return self._action()
        if it.typ == COMMENT:
            return CommentNode(it.line)
        raise self.unexpected(it, "input")

    def _action(self) -> Node:
        it = self.next_non_space()
        t = it.typ
        if t == "BLOCK":
            return self._block(it)
        if t in ("BREAK", "CONTINUE"):
            word = it.val
            nxt = self.next_non_space()
            if nxt.typ != RIGHT:
                raise self.unexpected(nxt, "{{" + word + "}}")
            if self.range_depth == 0:
                raise ParseError("{{" + word + "}} outside {{range}}", it.line)
            return BreakNode(it.line) if t == "BREAK" else ContinueNode(it.line)
        if t == "ELSE":
            peek = self.peek_non_space()
            if peek.typ in ("IF", "WITH"):
                return _Else(peek.line)
            tok = self.expect(RIGHT, "else")
            return _Else(tok.line)
        if t == "END":
            tok = self.expect(RIGHT, "end")
            return _End(tok.line)
        if t == "IF":
            return self._control(IfNode, "if", it.line)
        if t == "RANGE":
            return self._control(RangeNode, "range", it.line)
        if t == "WITH":
            return self._control(WithNode, "with", it.line)
        if t == "TEMPLATE":
            return self._template(it)
        self.backup()
        tok = self.peek()
        return ActionNode(tok.line, self._pipeline("command", RIGHT))

    def _control(self, cls: type[BranchNode], context: str, line: int) -> BranchNode:
        mark = len(self.scope.vars)
        pipe = self._pipeline(context, RIGHT)
        if context == "range":
            self.range_depth += 1
        body, nxt = self._item_list()
        if context == "range":
            self.range_depth -= 1
        else_list: ListNode | None = None
        if isinstance(nxt, _Else):
            if context == "if" and self.peek().typ == "IF":
                it = self.next()
                else_list = ListNode(nxt.line, [self._control(IfNode, "if", it.line)])
            elif context == "with" and self.peek().typ == "WITH":
                it = self.next()
                else_list = ListNode(nxt.line, [self._control(WithNode, "with", it.line)])
            else:
                else_list, end = self._item_list()
                if not isinstance(end, _End):
                    raise ParseError(f"expected end; found {end}", end.line)
        del self.scope.vars[mark:]
        return cls(line, pipe, body, else_list)

    def _template_name(self, it: Item, context: str) -> str:
        if it.typ not in (STRING, RAW):
            raise self.unexpected(it, context)
        try:
            return unquote(it.val)
        except ValueError:
            raise ParseError("invalid syntax", it.line) from None

    def _template(self, kw: Item) -> TemplateNode:
        ctx = "template clause"
        it = self.next_non_space()
        name = self._template_name(it, ctx)
        pipe: PipeNode | None = None
        if self.next_non_space().typ != RIGHT:
            self.backup()
            pipe = self._pipeline(ctx, RIGHT)
        return TemplateNode(kw.line, name, pipe)

    def _block(self, kw: Item) -> TemplateNode:
        ctx = "block clause"
        it = self.next_non_space()
        name = self._template_name(it, ctx)
        pipe = self._pipeline(ctx, RIGHT)
        saved_scope, saved_depth = self.scope, self.range_depth
        self.scope, self.range_depth = _Scope(), 0
        body_line = self.items[self.i - 1].line
        body, end = self._item_list()
        self.scope, self.range_depth = saved_scope, saved_depth
        if not isinstance(end, _End):
            raise ParseError(f"unexpected {end} in {ctx}", end.line)
        self._add(Definition(name, body, body_line))
        return TemplateNode(kw.line, name, pipe)

    def _pipeline(self, context: str, end: str) -> PipeNode:
        start_tok = self.peek_non_space()
        pipe = PipeNode(start_tok.line, [], False, [])
        pending: list[str] = []
        while True:
            v = self.peek_non_space()
            if v.typ != VARIABLE:
                break
            mark = self.i
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.typ in (ASSIGN, DECLARE):
                pipe.is_assign = nxt.typ == ASSIGN
                self.next_non_space()
                pending.append(v.val)
                break
            if nxt.typ == CHAR and nxt.val == ",":
                self.next_non_space()
                pending.append(v.val)
                if context == "range" and len(pending) < 2:
                    if self.peek_non_space().typ in (VARIABLE, RIGHT, RPAREN):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            # not a declaration: put the variable back
            self.i = mark
            break
        if pending and context == "parenthesized pipeline":
            raise self.error(
                f"declaring {', '.join(pending)} inside parentheses is not supported by Alertmanager++"
            )
        start_pos = self.peek_non_space().pos
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self._check_pipeline(pipe, context)
                pipe.source = self.text[start_pos : tok.pos].strip()
                break
            if tok.typ in (
                BOOL,
                CHARCONST,
                COMPLEX,
                "DOT",
                FIELD,
                IDENT,
                NUMBER,
                "NIL",
                RAW,
                STRING,
                VARIABLE,
                LPAREN,
            ):
                self.backup()
                pipe.cmds.append(self._command())
            else:
                raise self.unexpected(tok, context)
        # declarations take effect after the value is computed
        for name in pending:
            if pipe.is_assign:
                found, slot = self.scope.lookup(name)
                pipe.decl.append(VariableNode(pipe.line, name, slot if found else None, []))
                if not found:
                    pipe.decl[-1].slot = None
            else:
                slot = self.scope.declare(name)
                pipe.decl.append(VariableNode(pipe.line, name, slot, []))
        return pipe

    def _check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], BoolNode | DotNode | NilNode | NumberNode | StringNode):
                raise self.error(f"non executable command in pipeline stage {i + 2}")

    def _command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().line, [])
        while True:
            self.peek_non_space()
            operand = self._operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == SPACE:
                continue
            if tok.typ in (RIGHT, RPAREN):
                self.backup()
            elif tok.typ == PIPE:
                pass
            else:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def _operand(self) -> Node | None:
        node = self._term()
        if node is None:
            return None
        if self.peek().typ == FIELD:
            idents: list[str] = []
            while self.peek().typ == FIELD:
                idents.append(self.next().val[1:])
            if isinstance(node, FieldNode):
                return FieldNode(node.line, node.idents + idents)
            if isinstance(node, VariableNode):
                return VariableNode(node.line, node.name, node.slot, node.idents + idents)
            if isinstance(node, BoolNode | StringNode | NumberNode | NilNode | DotNode):
                raise self.error(f"unexpected . after term {go_quote(_term_text(node))}")
            return ChainNode(node.line, node, idents)
        return node

    def _term(self) -> Node | None:
        tok = self.next_non_space()
        t = tok.typ
        if t == IDENT:
            if tok.val not in self.functions:
                raise ParseError(f"function {go_quote(tok.val)} not defined", tok.line)
            return IdentifierNode(tok.line, tok.val)
        if t == "DOT":
            return DotNode(tok.line)
        if t == "NIL":
            return NilNode(tok.line)
        if t == VARIABLE:
            found, slot = self.scope.lookup(tok.val)
            if not found:
                raise ParseError(f"undefined variable {go_quote(tok.val)}", tok.line)
            return VariableNode(tok.line, tok.val, slot, [])
        if t == FIELD:
            return FieldNode(tok.line, [tok.val[1:]])
        if t == BOOL:
            return BoolNode(tok.line, tok.val == "true")
        if t in (CHARCONST, NUMBER):
            try:
                return NumberNode(tok.line, parse_number(tok.val, t), tok.val)
            except ValueError as e:
                raise ParseError(str(e), tok.line) from None
        if t == COMPLEX:
            raise ParseError(f"complex constants are not supported by Alertmanager++: {tok.val}", tok.line)
        if t == LPAREN:
            pipe = self._pipeline("parenthesized pipeline", RPAREN)
            return pipe
        if t in (STRING, RAW):
            try:
                return StringNode(tok.line, unquote(tok.val), tok.val)
            except ValueError:
                raise ParseError("invalid syntax", tok.line) from None
        self.backup()
        return None


def _term_text(node: Node) -> str:
    if isinstance(node, BoolNode):
        return "true" if node.value else "false"
    if isinstance(node, StringNode):
        return node.quoted
    if isinstance(node, NumberNode):
        return node.text
    if isinstance(node, NilNode):
        return "nil"
    return "."


class _End(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{end}}"


class _Else(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{else}}"


def parse(text: str, functions: Container[str], top_name: str) -> list[Definition]:
    """All definitions in a file or text: its {{define}}s and {{block}}s, then its top level
    (named ``top_name``). Raises ParseError with Go's message and the line."""
    return Parser(text, functions, top_name).parse()
