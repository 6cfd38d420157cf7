"""The template set: Alertmanager's defaults plus the user's files, rendered with Jinja2.

Definitions are kept by name, as Go keeps them: a later file's {{define}} replaces an earlier
one (the user can override a default), except that a definition with nothing but white space
and comments replaces nothing. Go definitions are translated to Jinja when loaded (so a
template that cannot be translated fails the load, naming file and line) and compiled on first
use; their HTML translations, which depend on where in the HTML a template is called, are made
when render_html first needs them.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import TracebackType
from typing import Any, ClassVar

import jinja2
from jinja2 import Template
from markupsafe import Markup

from . import _htmlctx as hc
from ._data import TemplateData
from ._errors import ExecError, TemplateError
from ._funcs import ALL_FUNCS
from ._parse import Definition, ParseError, is_empty_tree, parse
from ._runtime import make_environment
from ._translate import Translation, translate

JINJA_SUFFIXES = (".j2", ".jinja", ".jinja2")
DEFAULT_FILES = ("default.j2", "email.j2")
TEXT_FILE = "<text>"
_CACHE_LIMIT = 2048
_CODE_PREFIX = "<ampp-template>"
"""Compiled templates carry where their source is in their file name (``co_filename`` of the
frames an error passes through), so an error can name the file, template and line."""


@dataclass
class _Def:
    """One named template."""

    name: str
    file: str
    line: int  # line of the body's first character in the file
    go: Definition | None = None  # a Go definition ...
    jinja: str | None = None  # ... or Jinja source
    empty: bool = False
    text_translation: Translation | None = None
    html_translations: dict[str, Translation] = field(default_factory=dict)
    html_ends: dict[str, hc.Context] = field(default_factory=dict)


@dataclass
class _CodeInfo:
    file: str
    name: str
    line: int


# --- Jinja files -----------------------------------------------------------------------------


_JINJA_SCAN = re.compile(
    r"\{#.*?#\}"  # comments
    r"|\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}"  # raw blocks
    r"|\{%(?P<ls>-?)\s*define\s+(?P<name>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')\s*(?P<rs>-?)%\}"
    r"|\{%(?P<le>-?)\s*enddefine\s*(?P<re>-?)%\}",
    re.S,
)


def split_jinja(text: str, file: str, top_name: str) -> list[_Def]:
    """A Jinja file's named templates: ``{% define "name" %}...{% enddefine %}`` blocks, and
    the rest of the file under ``top_name`` (the file's base name, as Go names it).

    ``-`` trims white space as in Jinja: ``{% define "x" -%}`` the start of the body,
    ``{%- enddefine %}`` its end."""
    defs: list[_Def] = []
    rest: list[str] = []
    pos = 0
    open_: re.Match[str] | None = None

    def line_at(i: int) -> int:
        return text.count("\n", 0, i) + 1

    for m in _JINJA_SCAN.finditer(text):
        if m.group("name") is not None:
            if open_ is not None:
                raise TemplateError("define inside define", file=file, line=line_at(m.start()))
            before = text[pos : m.start()]
            rest.append(before.rstrip() if m.group("ls") else before)
            open_ = m
        elif m.group("le") is not None:
            if open_ is None:
                raise TemplateError("enddefine without define", file=file, line=line_at(m.start()))
            body = text[open_.end() : m.start()]
            line = line_at(open_.end())
            if open_.group("rs"):
                stripped = body.lstrip()
                line += body[: len(body) - len(stripped)].count("\n")
                body = stripped
            if m.group("le"):
                body = body.rstrip()
            quoted = open_.group("name")
            name = quoted[1:-1].encode().decode("unicode_escape") if "\\" in quoted else quoted[1:-1]
            defs.append(_Def(name, file, line, jinja=body, empty=body.strip() == ""))
            open_ = None
            pos = m.end()
            if m.group("re"):
                while pos < len(text) and text[pos] in " \t\r\n":
                    pos += 1
    if open_ is not None:
        raise TemplateError("define without enddefine", file=file, line=line_at(open_.start()))
    rest.append(text[pos:])
    top = "".join(rest)
    defs.append(_Def(top_name, file, 1, jinja=top, empty=top.strip() == ""))
    return defs


class Templates:
    """Alertmanager's default templates plus the user's, rendered like Alertmanager does."""

    _default_defs: ClassVar[list[_Def] | None] = None

    def __init__(self, defs: dict[str, _Def]) -> None:
        self._defs = defs
        self._lock = threading.RLock()
        self._text_env = make_environment(self, html=False)
        self._html_env = make_environment(self, html=True)
        self._text_compiled: dict[str, Template] = {}
        self._html_compiled: dict[tuple[str, str], tuple[Template, tuple[str, ...] | None]] = {}
        self._render_text: dict[str, Template] = {}
        self._render_html: dict[str, Template] = {}

    # --- loading -----------------------------------------------------------------------

    @classmethod
    def _defaults(cls) -> list[_Def]:
        if cls._default_defs is None:
            defs: list[_Def] = []
            pkg = resources.files(__package__)
            for fname in DEFAULT_FILES:
                text = (pkg / fname).read_text(encoding="utf-8")
                defs.extend(d for d in split_jinja(text, fname, fname) if d.name != fname)
            cls._default_defs = defs
        return cls._default_defs

    @classmethod
    def load(cls, files: Sequence[str] = ()) -> Templates:
        """The defaults plus ``files`` (config ``templates:`` globs, already expanded), in order.

        Go text/template files are parsed and translated now; ``*.j2``/``*.jinja`` files are
        Jinja2 (named templates inside ``{% define "name" %}...{% enddefine %}``). Raises
        TemplateError naming the file and line of anything that cannot be parsed or translated.
        """
        defs: dict[str, _Def] = {}
        for d in cls._defaults():
            defs[d.name] = d
        user: list[_Def] = []
        for path in files:
            try:
                with open(path, encoding="utf-8", newline="") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError) as e:
                raise TemplateError(f"cannot read template file: {e}", file=path) from None
            user.extend(cls._parse_file(text, path, os.path.basename(path)))
        for d in user:
            old = defs.get(d.name)
            if old is not None and d.empty:
                continue  # Go: an empty definition never replaces one
            defs[d.name] = d
        t = cls(defs)
        for d in user:
            if defs.get(d.name) is d:
                t._check(d)
        return t

    @staticmethod
    def _parse_file(text: str, file: str, top_name: str) -> list[_Def]:
        if file.endswith(JINJA_SUFFIXES):
            return split_jinja(text, file, top_name)
        try:
            parsed = parse(text, ALL_FUNCS, top_name)
        except ParseError as e:
            raise TemplateError(e.msg, file=file, line=e.line) from None
        out = []
        for p in parsed:
            d = _Def(p.name, file, p.line, go=p, empty=is_empty_tree(p.root))
            d.text_translation = translate(p, file)
            out.append(d)
        return out

    def _check(self, d: _Def) -> None:
        """Compile a user's definition now, so a mistake is reported at load."""
        if d.jinja is not None:
            self.compiled_text(d.name)

    # --- compiling ---------------------------------------------------------------------

    def _compile(
        self, env: jinja2.Environment, source: str, info: _CodeInfo, literals: Sequence[str]
    ) -> Template:
        key = _CODE_PREFIX + json.dumps([info.file, info.name, info.line])
        try:
            code = env.compile(source, name=info.name, filename=key)
        except jinja2.TemplateSyntaxError as e:
            raise TemplateError(
                e.message or "syntax error", file=info.file, line=info.line + (e.lineno or 1) - 1
            ) from None
        lit: tuple[str, ...] = tuple(Markup(x) for x in literals) if env.autoescape else tuple(literals)
        return env.template_class.from_code(env, code, env.make_globals({"_L": lit}))

    def _lookup(self, name: str) -> _Def:
        d = self._defs.get(name)
        if d is None:
            raise ExecError(f'template "{name}" not defined')
        return d

    def compiled_text(self, name: str) -> Template:
        """The named template compiled for text/template (translated on first use)."""
        t = self._text_compiled.get(name)
        if t is None:
            with self._lock:
                d = self._lookup(name)
                if d.jinja is not None:
                    source, literals = d.jinja, []
                else:
                    if d.text_translation is None:
                        assert d.go is not None
                        d.text_translation = translate(d.go, d.file)
                    source, literals = d.text_translation.source, d.text_translation.literals
                t = self._compile(self._text_env, source, _CodeInfo(d.file, name, d.line), literals)
                self._text_compiled[name] = t
        return t

    def _html_end(self, name: str, ctx: hc.Context, call_file: str, call_line: int) -> hc.Context:
        """The context after {{template name}} called in ``ctx`` (translating it for ``ctx``)."""
        d = self._defs.get(name)
        if d is None:
            raise TemplateError(f'html/template: no such template "{name}"', file=call_file, line=call_line)
        key = ctx.key()
        if d.go is None:
            return ctx  # a Jinja template: its output is escaped as one value in that context
        end = d.html_ends.get(key)
        if end is not None:
            return end
        d.html_ends[key] = ctx  # assumed while translating (recursive templates)
        tr = translate(
            d.go, d.file, html=True, start=ctx, callee=lambda n, c, ln: self._html_end(n, c, d.file, ln)
        )
        assert tr.end is not None
        d.html_translations[key] = tr
        d.html_ends[key] = tr.end
        return tr.end

    def compiled_html(self, name: str, ctx_key: str) -> tuple[Template, tuple[str, ...] | None]:
        """The named template compiled for html/template at a call site in context ``ctx_key``,
        with the escapers its output goes through there (None: it escapes its own output)."""
        hit = self._html_compiled.get((name, ctx_key))
        if hit is not None:
            return hit
        with self._lock:
            d = self._lookup(name)
            ctx = _context_from_key(ctx_key)
            escapers: tuple[str, ...] | None = None
            if d.go is None:
                assert d.jinja is not None
                if ctx.state in (hc.TEXT, hc.RCDATA):
                    t = self._compile(self._html_env, d.jinja, _CodeInfo(d.file, name, d.line), [])
                else:
                    t = self.compiled_text(name)
                    try:
                        escapers = tuple(hc.escapers_for(ctx))
                    except hc.UnsupportedContext as e:
                        raise ExecError(f"html/template: {{{{template {name!r}}}}} {e}") from None
            else:
                if ctx_key not in d.html_translations:
                    self._html_end(name, ctx, d.file, d.line)
                tr = d.html_translations[ctx_key]
                t = self._compile(self._html_env, tr.source, _CodeInfo(d.file, name, d.line), tr.literals)
            hit = (t, escapers)
            self._html_compiled[(name, ctx_key)] = hit
        return hit

    def _field_template(self, text: str, html: bool) -> Template:
        """A config field's text, compiled (cached per text)."""
        cache = self._render_html if html else self._render_text
        t = cache.get(text)
        if t is not None:
            return t
        with self._lock:
            try:
                parsed = parse(text, ALL_FUNCS, "")
            except ParseError as e:
                raise TemplateError(e.msg, file=TEXT_FILE, line=e.line) from None
            top = parsed[-1]
            target: Templates = self
            if len(parsed) > 1:
                # the text defines templates of its own: they apply to this text only
                defs = dict(self._defs)
                for p in parsed[:-1]:
                    if p.name in defs and is_empty_tree(p.root):
                        continue
                    defs[p.name] = _Def(p.name, TEXT_FILE, p.line, go=p, empty=is_empty_tree(p.root))
                target = Templates(defs)
            if html:
                tr = translate(
                    top,
                    TEXT_FILE,
                    html=True,
                    callee=lambda n, c, ln: target._html_end(n, c, TEXT_FILE, ln),
                )
                assert tr.end is not None
                if tr.end.state != hc.TEXT:
                    raise TemplateError(
                        f'html/template: "" ends in a non-text context: {tr.end}', file=TEXT_FILE
                    )
                t = target._compile(target._html_env, tr.source, _CodeInfo(TEXT_FILE, "", 1), tr.literals)
            else:
                tr = translate(top, TEXT_FILE)
                t = target._compile(target._text_env, tr.source, _CodeInfo(TEXT_FILE, "", 1), tr.literals)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[text] = t
        return t

    # --- rendering ---------------------------------------------------------------------

    def render(self, text: str, data: TemplateData) -> str:
        """Render a config field's Go template text as text/template does (no escaping).

        ``data`` is normally ``template_data(...)``; a dict in template.Data's JSON shape (the
        webhook payload) is accepted too."""
        if text == "":
            return ""
        t = self._field_template(text, html=False)
        return self._run(t, data)

    def render_html(self, text: str, data: TemplateData) -> str:
        """Render a config field's Go template text as html/template does (contextual escaping)."""
        if text == "":
            return ""
        t = self._field_template(text, html=True)
        return str(self._run(t, data))

    def _run(self, t: Template, data: Any) -> str:
        if isinstance(data, Mapping):
            data = TemplateData.from_dict(data)  # e.g. the webhook payload's dict
        try:
            return t.render(dot=data, _root=data)
        except TemplateError:
            raise
        except RecursionError:
            raise self._error(sys.exc_info()[2], "exceeded maximum template depth (recursion)") from None
        except ExecError as e:
            raise self._error(e.__traceback__, str(e)) from None
        except Exception as e:  # a template must never take anything else down
            raise self._error(e.__traceback__, f"{type(e).__name__}: {e}") from None

    def _error(self, tb: TracebackType | None, reason: str) -> TemplateError:
        info: _CodeInfo | None = None
        line = 0
        while tb is not None:
            code_file = tb.tb_frame.f_code.co_filename
            if code_file.startswith(_CODE_PREFIX):
                file, name, offset = json.loads(code_file[len(_CODE_PREFIX) :])
                info, line = _CodeInfo(file, name, offset), tb.tb_lineno
            tb = tb.tb_next
        if info is None:
            return TemplateError(reason)
        return TemplateError(reason, file=info.file, line=info.line + line - 1, name=info.name)

    def names(self) -> list[str]:
        """The names of all defined templates."""
        return sorted(n for n, d in self._defs.items() if n)

    def __repr__(self) -> str:
        return f"<Templates: {len(self._defs)} templates>"


def _context_from_key(key: str) -> hc.Context:
    state, delim, url_part, element, attr, js_regexp = key.split("|")
    return hc.Context(state, delim, url_part, element, attr, js_regexp == "1")
