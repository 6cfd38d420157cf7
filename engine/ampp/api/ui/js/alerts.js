// The alerts page: alerts grouped as routed (receiver, group labels), their state and why,
// Alertmanager-syntax filters with autocomplete, sort, collapse, counts, live updates.

import { h, clear, mount, setQuery, badge, labelChip, timeEl, errorBox, annotationValue } from "./dom.js";
import { api } from "./api.js";
import { store, loadGroups, alertState } from "./store.js";
import { filterBar } from "./filterbar.js";
import { parseMatchers, matchesLabels, matcherString, MatcherError } from "./matchers.js";
import { onChange } from "./live.js";
import { can } from "./session.js";

const GROUP_PAGE = 30;
const ALERTS_SHOWN = 5;
const STATES = ["active", "silenced", "inhibited"];
const SEVERITY = { critical: 0, error: 1, high: 1, warning: 2, medium: 2, info: 3, low: 3, none: 4 };
const SORTS = {
  started: "Newest first",
  alerts: "Most alerts",
  severity: "Severity",
  labels: "Group labels",
};

// What the user did, kept across live re-renders and visits.
const ui = { collapsed: new Set(), expanded: new Set(), groupLimit: GROUP_PAGE };
let silences = new Map();

export function render(main, { query }) {
  let matchers = [];
  const bad = [];
  for (const f of query.getAll("filter")) {
    try {
      matchers.push(...parseMatchers(f));
    } catch (e) {
      if (!(e instanceof MatcherError)) throw e;
      bad.push(e.message);
    }
  }
  const shown = new Set((query.get("states") || STATES.join(",")).split(",").filter((s) => STATES.includes(s)));
  let sort = SORTS[query.get("sort")] ? query.get("sort") : "started";
  let receiver = query.get("receiver") || "";

  const results = h("div", { id: "groups" });
  const counts = h("p", { class: "counts", role: "status" });
  const receiverSelect = h("select", { id: "receiver", onchange: () => { receiver = receiverSelect.value; update(); } });
  const bar = filterBar({
    matchers,
    labelValues: () => store.labelValues,
    onChange: (ms) => { matchers = ms; ui.groupLimit = GROUP_PAGE; update(); },
  });
  const sortSelect = h("select", { id: "sort", onchange: () => { sort = sortSelect.value; update(); } },
    Object.entries(SORTS).map(([k, v]) => h("option", { value: k, selected: k === sort }, v)));
  const stateBoxes = STATES.map((s) => h("label", { class: "check" },
    h("input", { type: "checkbox", checked: shown.has(s), onchange: (ev) => {
      if (ev.target.checked) shown.add(s); else shown.delete(s);
      update();
    } }), s[0].toUpperCase() + s.slice(1)));

  mount(main,
    h("h1", null, "Alerts"),
    h("div", { class: "toolbar" }, bar.el),
    h("div", { class: "toolbar" },
      h("label", null, "Receiver", receiverSelect),
      h("label", null, "Sort", sortSelect),
      h("fieldset", { class: "actions plain" },
        h("legend", { class: "sr" }, "Show alerts that are"), stateBoxes),
      h("button", { type: "button", onclick: () => { for (const g of store.groups) ui.collapsed.add(g.key); draw(); } }, "Collapse all"),
      h("button", { type: "button", onclick: () => { ui.collapsed.clear(); draw(); } }, "Expand all")),
    bad.length ? errorBox(new Error(bad.join("; "))) : null,
    counts,
    results,
  );

  function update() {
    const q = new URLSearchParams();
    for (const m of matchers) q.append("filter", matcherString(m));
    if (shown.size !== STATES.length) q.set("states", [...shown].join(","));
    if (sort !== "started") q.set("sort", sort);
    if (receiver) q.set("receiver", receiver);
    setQuery(q);
    draw();
  }

  function receivers() {
    const names = [...new Set(store.groups.map((g) => g.receiver.name))].sort();
    const current = receiver;
    clear(receiverSelect).append(h("option", { value: "" }, "All receivers"),
      names.map((n) => h("option", { value: n, selected: n === current }, n)));
  }

  function draw() {
    const t0 = performance.now();
    const focusKey = document.activeElement?.dataset?.fk;
    let groups = [];
    let total = 0;
    const byState = { active: 0, silenced: 0, inhibited: 0 };
    for (const g of store.groups) {
      if (receiver && g.receiver.name !== receiver) continue;
      const alerts = [];
      for (const a of g.alerts) {
        const st = alertState(a);
        if (!shown.has(st) && !(st === "unprocessed" && shown.has("active"))) continue;
        if (matchers.length && !matchesLabels(matchers, a.labels)) continue;
        alerts.push(a);
        byState[st === "unprocessed" ? "active" : st]++;
      }
      if (alerts.length) {
        total += alerts.length;
        groups.push({ g, alerts, newest: alerts.reduce((x, a) => (a.startsAt > x ? a.startsAt : x), ""),
          severity: Math.min(...alerts.map((a) => SEVERITY[a.labels.severity] ?? 5)) });
      }
    }
    groups = sortGroups(groups, sort);
    clear(counts).append(
      h("span", null, h("strong", null, String(total)), ` alert${total === 1 ? "" : "s"} in `,
        h("strong", null, String(groups.length)), ` group${groups.length === 1 ? "" : "s"}`),
      ...STATES.map((s) => h("span", null, badge(s), " ", String(byState[s]))));
    clear(results);
    if (!store.loadedAt) {
      results.append(h("p", { class: "muted" }, "Loading…"));
      return;
    }
    if (!groups.length) {
      results.append(h("p", { class: "muted" }, store.groups.length ? "No alert matches these filters." : "No alerts."));
    }
    for (const item of groups.slice(0, ui.groupLimit)) results.append(groupEl(item));
    if (groups.length > ui.groupLimit) {
      results.append(h("button", { type: "button", "data-fk": "more-groups", onclick: () => { ui.groupLimit += GROUP_PAGE; draw(); } },
        `Show ${Math.min(GROUP_PAGE, groups.length - ui.groupLimit)} more groups (${groups.length - ui.groupLimit} hidden)`));
    }
    if (focusKey) results.querySelector(`[data-fk="${CSS.escape(focusKey)}"]`)?.focus();
    results.dataset.renderMs = String(Math.round(performance.now() - t0));
  }

  function addFilter(name, value) {
    bar.add({ name, type: "=", value });
  }

  function groupEl({ g, alerts }) {
    const collapsed = ui.collapsed.has(g.key);
    const showAll = ui.expanded.has(g.key);
    const listId = `g-${hash(g.key)}`;
    const title = Object.keys(g.labels).length
      ? Object.entries(g.labels).map(([k, v]) => `${k}="${v}"`).join(", ")
      : "(not grouped)";
    const header = h("header", null,
      h("button", {
        type: "button", class: "toggle", "aria-expanded": collapsed ? "false" : "true", "aria-controls": listId,
        "data-fk": `toggle:${g.key}`, "aria-label": `${collapsed ? "Expand" : "Collapse"} group ${title}`,
        onclick: () => { if (collapsed) ui.collapsed.delete(g.key); else ui.collapsed.add(g.key); draw(); },
      }, collapsed ? "▸" : "▾"),
      h("h2", null, Object.keys(g.labels).length
        ? h("span", { class: "chips" }, Object.entries(g.labels).map(([k, v]) => labelChip(k, v, addFilter)))
        : h("span", { class: "muted" }, "(not grouped)")),
      h("span", { class: "muted" }, "→ ", h("span", { class: "mono" }, g.receiver.name)),
      h("span", { class: "badge pending" }, `${alerts.length}`));
    const section = h("section", { class: "group", "aria-label": `Group ${title} to ${g.receiver.name}` }, header);
    if (collapsed) return section;
    const list = h("ul", { class: "alerts", id: listId });
    const visible = showAll ? alerts : alerts.slice(0, ALERTS_SHOWN);
    for (const a of visible) list.append(alertEl(a, g.labels));
    section.append(list);
    if (alerts.length > visible.length) {
      section.append(h("div", { class: "more" }, h("button", {
        type: "button", class: "small", "data-fk": `more:${g.key}`,
        onclick: () => { ui.expanded.add(g.key); draw(); },
      }, `Show all ${alerts.length} alerts`)));
    }
    return section;
  }

  function alertEl(a, groupLabels) {
    const st = alertState(a);
    const name = a.labels.alertname || "(no alertname)";
    const own = Object.entries(a.labels).filter(([k]) => !(k in groupLabels) && k !== "alertname");
    const summary = a.annotations.summary || a.annotations.description || a.annotations.message;
    return h("li", { class: "alert", "data-fingerprint": a.fingerprint },
      h("div", { class: "line" },
        badge(st === "unprocessed" ? "active" : st),
        h("strong", null, name),
        h("span", { class: "muted" }, "since ", timeEl(a.startsAt, true)),
        h("span", { class: "actions" },
          h("a", { href: `#/alert/${a.fingerprint}`, class: "button small", "data-fk": `detail:${a.fingerprint}`, "aria-label": `Details of ${name} ${a.fingerprint}` }, "Details"),
          can("silence:write") && st !== "silenced"
            ? h("a", { href: `#/silences/new?fp=${a.fingerprint}`, class: "button small", "data-fk": `silence:${a.fingerprint}`, "aria-label": `Silence ${name} ${a.fingerprint}` }, "Silence")
            : null,
          a.generatorURL ? h("a", { href: a.generatorURL, class: "button small", rel: "noopener noreferrer" }, "Source") : null)),
      own.length ? h("div", { class: "chips" }, own.map(([k, v]) => labelChip(k, v, addFilter))) : null,
      summary ? h("div", { class: "summary" }, annotationValue(summary)) : null,
      why(a));
  }

  const stop = onChange(async (changed) => {
    if (!changed.has("alerts") && !changed.has("silences")) return;
    await refresh(changed.has("silences"));
  });

  async function refresh(withSilences = true) {
    try {
      await Promise.all([loadGroups(), withSilences || !silences.size ? loadSilences() : null]);
      receivers();
      draw();
    } catch (e) {
      clear(results).append(errorBox(e));
    }
  }

  draw();
  refresh(true);
  return stop;
}

async function loadSilences() {
  try {
    const list = await api("api/v2/silences");
    silences = new Map(list.map((s) => [s.id, s]));
  } catch {
    silences = new Map(); // the why line falls back to the silence ids
  }
}

function why(a) {
  const parts = [];
  for (const id of a.status.silencedBy) {
    const s = silences.get(id);
    parts.push(h("span", null, "Silenced by ", h("a", { href: `#/silences/${id}` }, s ? `${s.createdBy}: “${s.comment}”` : id.slice(0, 8)),
      s ? h("span", null, " until ", timeEl(s.endsAt)) : null));
  }
  for (const fp of a.status.inhibitedBy) {
    const src = store.byFingerprint.get(fp);
    parts.push(h("span", null, "Inhibited by ", h("a", { href: `#/alert/${fp}` }, src ? `${src.labels.alertname || fp} (${fp})` : fp)));
  }
  return parts.length ? h("div", { class: "why" }, parts.flatMap((p, i) => (i ? ["; ", p] : [p]))) : null;
}

function sortGroups(groups, sort) {
  const byLabels = (x, y) => JSON.stringify(x.g.labels).localeCompare(JSON.stringify(y.g.labels)) || x.g.receiver.name.localeCompare(y.g.receiver.name);
  const cmp = {
    started: (x, y) => (x.newest < y.newest ? 1 : x.newest > y.newest ? -1 : byLabels(x, y)),
    alerts: (x, y) => y.alerts.length - x.alerts.length || byLabels(x, y),
    severity: (x, y) => x.severity - y.severity || byLabels(x, y),
    labels: byLabels,
  }[sort];
  return groups.sort(cmp);
}

function hash(s) {
  let x = 0;
  for (let i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) | 0;
  return (x >>> 0).toString(36);
}
