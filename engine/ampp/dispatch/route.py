"""The route tree: which receivers an alert goes to, and how it is grouped there.

Built from the config's RouteConfig with Alertmanager's inheritance (dispatch/route.go): a child
takes receiver, group_by and the timers from its parent unless it sets them; mute and active
time intervals are not inherited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..config.model import RouteConfig
from ..model.matchers import Matcher, MatchType, matches_labels

_TYPE_ORDER = {MatchType.EQUAL: 0, MatchType.NOT_EQUAL: 1, MatchType.REGEX: 2, MatchType.NOT_REGEX: 3}


@dataclass(frozen=True, slots=True)
class RouteOpts:
    receiver: str = ""
    group_by: frozenset[str] = frozenset()
    group_by_all: bool = False
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()


def _sort_key(m: Matcher) -> tuple[str, str, int]:
    return (m.name, m.value, _TYPE_ORDER[m.type])


@dataclass(eq=False)
class Route:
    opts: RouteOpts
    matchers: list[Matcher]
    continue_: bool = False
    parent: Route | None = None
    routes: list[Route] = field(default_factory=list)
    index: int = 0
    _key: str | None = None

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """Depth-first, left to right; a node matches itself when no child matched."""
        if not matches_labels(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            matches = child.match(labels)
            found.extend(matches)
            if matches and not child.continue_:
                break
        return found or [self]

    def key(self) -> str:
        """Route.Key(): the parent's key, '/', and this node's sorted matchers."""
        if self._key is None:
            own = "{" + ",".join(str(m) for m in self.matchers) + "}"
            self._key = f"{self.parent.key()}/{own}" if self.parent else own
        return self._key

    def walk(self, visit: Callable[[Route], None]) -> None:
        visit(self)
        for child in self.routes:
            child.walk(visit)

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.opts.group_by_all:
            return dict(labels)
        return {k: labels[k] for k in self.opts.group_by if k in labels}


def build_route(cfg: RouteConfig, parent: Route | None = None, index: int = 0) -> Route:
    opts = parent.opts if parent else RouteOpts()
    receiver = cfg.receiver or opts.receiver
    group_by, group_by_all = opts.group_by, opts.group_by_all
    names = [g for g in (cfg.group_by or []) if g != "..."]
    if names:
        group_by, group_by_all = frozenset(names), False
    elif cfg.group_by and "..." in cfg.group_by:
        group_by_all = True
    opts = RouteOpts(
        receiver=receiver,
        group_by=group_by,
        group_by_all=group_by_all,
        group_wait=cfg.group_wait if cfg.group_wait is not None else opts.group_wait,
        group_interval=cfg.group_interval if cfg.group_interval is not None else opts.group_interval,
        repeat_interval=cfg.repeat_interval if cfg.repeat_interval is not None else opts.repeat_interval,
        mute_time_intervals=tuple(cfg.mute_time_intervals or ()),
        active_time_intervals=tuple(cfg.active_time_intervals or ()),
    )
    route = Route(opts, sorted(cfg.all_matchers, key=_sort_key), cfg.continue_, parent, index=index)
    route.routes = [build_route(c, route, i) for i, c in enumerate(cfg.routes or [])]
    return route
