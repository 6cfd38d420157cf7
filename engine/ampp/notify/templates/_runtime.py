"""What translated (and Jinja) templates call at render time, and their Jinja environments.

A Runtime per environment provides, as filters (Jinja calls filters directly, which is much
cheaper than its context.call for functions): Go's field evaluation (``_gf``), range
(``_items``), calling a named template (``_tmpl``; ``_tmpl_h`` in HTML), html/template's
escapers (``_esc``); the functions are ``_fn_<Go name>``. Printing follows fmt (``finalize``),
so ``{{ .StartsAt }}`` and ``{{ 1.5 }}`` come out as in Go.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn, Protocol

import jinja2
from markupsafe import Markup

from . import _funcs
from . import _htmlctx as hc
from ._data import KV, GoObject
from ._errors import ExecError
from ._gofmt import go_type_name, sprint_value

MAX_DEPTH = 60
"""Nested {{template}} calls allowed (Go allows 100000; Python's stack is smaller)."""

_split_cache: dict[str, tuple[str, ...]] = {}


def _methods(v: Any) -> frozenset[str]:
    m = getattr(type(v), "go_methods", None)
    return m if isinstance(m, frozenset) else frozenset()


def eval_field(recv: Any, name: str, args: tuple[Any, ...]) -> Any:
    """text/template's evalField with missingkey=zero: method, then struct field, then map key."""
    if recv is None:
        raise ExecError(f"nil pointer evaluating interface {{}}.{name}")
    if name in _methods(recv):
        try:
            return getattr(recv, name)(*args)
        except TypeError as e:
            if e.__traceback__ is not None and e.__traceback__.tb_next is None:
                raise ExecError(f"wrong number of args for {name}: got {len(args)}") from None
            raise
    if isinstance(recv, GoObject):
        attr = recv.go_fields.get(name)
        if attr is not None:
            if args:
                raise ExecError(f"{name} has arguments but cannot be invoked as function")
            return getattr(recv, attr)
    if isinstance(recv, Mapping):
        if args:
            raise ExecError(f"{name} is not a method but has arguments")
        if name in recv:
            return recv[name]
        return "" if isinstance(recv, KV) else None
    raise ExecError(f"can't evaluate field {name} in type {go_type_name(recv)}")


def go_items(v: Any) -> Iterable[tuple[Any, Any]]:
    """What {{range}} iterates: (index, element) of a slice, (key, value) of a map in key order.
    (Not integers: ranging over an int came with Go 1.22, after the Alertmanager we follow.)"""
    if v is None:
        return ()
    if isinstance(v, Mapping):
        return sorted(v.items(), key=lambda kv: (not isinstance(kv[0], (int, float)), kv[0]))
    if isinstance(v, (list, tuple)):
        return enumerate(v)
    raise ExecError(f"range can't iterate over {sprint_value(v)}")


def finalize_text(v: Any) -> str:
    """How text/template prints an action's value."""
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, jinja2.Undefined):
        return str(v)
    return sprint_value(v)


@jinja2.pass_eval_context
def _finalize_text(ctx: jinja2.nodes.EvalContext, v: Any) -> str:
    # pass_eval_context keeps Jinja from folding constants at compile time with its own escaping
    return finalize_text(v)


@jinja2.pass_eval_context
def _finalize_html(ctx: jinja2.nodes.EvalContext, v: Any) -> Markup:
    return finalize_html(v)


def finalize_html(v: Any) -> Markup:
    """Printing in Jinja templates rendered as HTML: html/template's text escaper."""
    if isinstance(v, Markup):
        return v
    if isinstance(v, jinja2.Undefined):
        return Markup(hc.html_escaper(str(v)))
    return Markup(hc.html_escaper(v))


class _Depth(threading.local):
    n = 0


class TemplateSet(Protocol):
    """What {{template "name"}} needs of the set it runs in (``_engine.Templates``)."""

    def compiled_text(self, name: str) -> jinja2.Template: ...

    def compiled_html(self, name: str, ctx_key: str) -> tuple[jinja2.Template, tuple[str, ...] | None]: ...


class Runtime:
    """The ``_go`` object of one environment (text or HTML) of one Templates set."""

    def __init__(self, engine: TemplateSet, html: bool) -> None:
        self.engine = engine
        self.html = html
        self._depth = _Depth()

    # Go semantics
    def f(self, recv: Any, path: str, *args: Any) -> Any:
        names = _split_cache.get(path)
        if names is None:
            names = tuple(path.split("."))
            _split_cache[path] = names
        for name in names[:-1]:
            recv = eval_field(recv, name, ())
        return eval_field(recv, names[-1], args)

    @staticmethod
    def items(v: Any) -> Iterable[tuple[Any, Any]]:
        return go_items(v)

    @staticmethod
    def fail(msg: str) -> NoReturn:
        raise ExecError(msg)

    @staticmethod
    def number(v: float) -> float:
        return v

    @staticmethod
    def no_value(v: Any) -> Any:
        return "<no value>" if v is None else v

    @staticmethod
    def esc(v: Any, escapers: tuple[str, ...]) -> Markup:
        return hc.escape_value(v, escapers)

    # {{template}}
    def _enter(self) -> None:
        self._depth.n += 1
        if self._depth.n > MAX_DEPTH:
            self._depth.n -= 1  # the callers' finally blocks unwind the rest
            raise ExecError(f"exceeded maximum template depth ({MAX_DEPTH})")

    def tmpl(self, name: str, data: Any) -> str:
        """{{template "name" data}} in text/template."""
        t = self.engine.compiled_text(name)
        self._enter()
        try:
            return "".join(t.root_render_func(t.new_context({"dot": data, "_root": data})))
        finally:
            self._depth.n -= 1

    def tmpl_filter(self, data: Any, name: str) -> str:
        return self.tmpl(name, data)

    def tmpl_h_filter(self, data: Any, name: str, ctx_key: str) -> Markup:
        return self.tmpl_h(name, data, ctx_key)

    def tmpl_h(self, name: str, data: Any, ctx_key: str) -> Markup:
        """{{template "name" data}} in html/template, at a call site in the given context."""
        t, escapers = self.engine.compiled_html(name, ctx_key)
        self._enter()
        try:
            out = "".join(t.root_render_func(t.new_context({"dot": data, "_root": data})))
        finally:
            self._depth.n -= 1
        if escapers is not None:
            return hc.escape_value(out, escapers)
        return Markup(out)

    def template(self, name: str, data: Any = None, context: str = "text") -> str:
        """``template(name, data)`` for Jinja templates; in HTML, ``context`` names where the
        result lands: "text" (default), "rcdata" (<title>), "attr" or "url" (a quoted
        attribute value)."""
        if not self.html:
            return self.tmpl(name, data)
        ctx = hc.NAMED_CONTEXTS.get(context)
        if ctx is None:
            raise ExecError(f"unknown HTML context {context!r}; use one of {sorted(hc.NAMED_CONTEXTS)}")
        return self.tmpl_h(name, data, ctx.key())


def _go_func(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A template function as Go calls it: a wrong number of arguments is Go's error."""

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except TypeError as e:
            if e.__traceback__ is not None and e.__traceback__.tb_next is None:
                raise ExecError(f"wrong number of args for {name}: got {len(args)}") from None
            raise

    call.__name__ = name
    return call


def _pipe_last(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A Go function as a Jinja filter: ``x | f(a, b)`` is Go's ``x | f a b``, i.e. f(a, b, x)."""

    def filt(value: Any, *args: Any) -> Any:
        return fn(*args, value)

    filt.__name__ = getattr(fn, "__name__", "filter")
    return filt


def _join_filter(value: Any, sep: str = "") -> str:
    """``list | join(sep)``: Go's join (strings.Join), printing non-strings as Go does."""
    if isinstance(value, str):
        return str.__str__(value)
    return str.__str__(sep).join(finalize_text(x) for x in value)


def _escape_filter(*escapers: str) -> Callable[[Any], Markup]:
    def filt(value: Any) -> Markup:
        return hc.escape_value(value, escapers)

    return filt


FILTER_FUNCS = (
    *_funcs.AM_FUNCS,
    "urlquery",
    "html",
    "js",
    "printf",
    "print",
    "println",
    "len",
)


def make_environment(engine: TemplateSet, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=html,
        keep_trailing_newline=True,
        finalize=_finalize_html if html else _finalize_text,
        extensions=["jinja2.ext.loopcontrols"],
        undefined=jinja2.Undefined,
        cache_size=0,
    )
    runtime = Runtime(engine, html)
    env.globals.update(
        _go=runtime,
        template=runtime.template,
        go_html=html,
    )
    for name, fn in _funcs.ALL_FUNCS.items():
        if name not in env.globals and name not in ("and", "or", "not", "dict", "list"):
            env.globals[name] = fn
    for name, fn in _funcs.ALL_FUNCS.items():
        env.filters[f"_fn_{name}"] = env.globals[f"_fn_{name}"] = _go_func(name, fn)
    env.filters.update(
        _gf=runtime.f,
        _items=go_items,
        _tmpl=runtime.tmpl_filter,
        _tmpl_h=runtime.tmpl_h_filter,
        _esc=hc.escape_value,
        _no_value=runtime.no_value,
    )
    for name in FILTER_FUNCS:
        env.filters[name] = _pipe_last(_funcs.ALL_FUNCS[name])
    env.filters["join"] = _join_filter
    # where a value lands in HTML (html/template escapes by place); plain text in text mode
    places = {
        "go_html": (hc.HTML_ESCAPER,),
        "go_attr": (hc.ATTR_ESCAPER,),
        "go_url": (hc.URL_FILTER, hc.URL_NORMALIZER, hc.ATTR_ESCAPER),
        "go_query": (hc.URL_ESCAPER, hc.ATTR_ESCAPER),
    }
    for name, escapers in places.items():
        env.filters[name] = _escape_filter(*escapers) if html else finalize_text
    env.filters["go_print"] = sprint_value
    return env
