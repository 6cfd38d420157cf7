// History: every /history filter as a form, results paged by cursor, the URL holding the query
// (so a search is a link to share).

import { h, clear, mount, setQuery, badge, timeEl, errorBox, labelChips, table, duration } from "./dom.js";
import { api } from "./api.js";

const TEXT = [
  ["severity", "Severity", "critical,warning"],
  ["alertname", "Alert name", ""],
  ["namespace", "Namespace", ""],
  ["cluster", "Cluster", ""],
  ["service", "Service", ""],
  ["receiver", "Receiver", ""],
  ["fingerprint", "Fingerprint", "16 hex digits"],
  ["q", "Annotation text", "disk full"],
  ["min_duration", "Lasted at least", "5m"],
  ["max_duration", "Lasted at most", "1h"],
  ["flapping", "Flapping: more than N changes", "3"],
  ["flapping_window", "Flapping window", "1h"],
];
const TIMES = [["from", "From"], ["to", "To"], ["active_at", "Firing at"]];
const BOOLS = [["silenced", "Silenced"], ["inhibited", "Inhibited"], ["notified", "Notified"]];
const SORTS = ["startsAt", "endsAt", "duration", "alertname", "severity"];
const KNOWN = new Set(["status", "filter", "sort", "direction", "limit", "cursor", ...TEXT.map((t) => t[0]), ...TIMES.map((t) => t[0]), ...BOOLS.map((t) => t[0])]);

function toLocal(iso) {
  const d = new Date(/^\d+(\.\d+)?$/.test(iso) ? Number(iso) * 1000 : iso);
  if (Number.isNaN(d.getTime())) return "";
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

const cursors = []; // the cursors of the pages before this one, for "Previous"

export function render(main, { query }) {
  const fields = {};
  const input = (name, attrs) => (fields[name] = h("input", { id: `h-${name}`, name, ...attrs }));
  const select = (name, options, value) => (fields[name] = h("select", { id: `h-${name}`, name },
    options.map(([v, t]) => h("option", { value: v, selected: v === (value || "") }, t))));
  const form = h("form", { class: "card", "aria-label": "History filters", onsubmit: (ev) => { ev.preventDefault(); cursors.length = 0; search(null); } },
    h("div", { class: "form" },
      h("label", { for: "h-status" }, "Status", select("status", [["", "Any"], ["firing", "Firing"], ["resolved", "Resolved"]], query.get("status"))),
      TEXT.map(([k, label, ph]) => h("label", { for: `h-${k}` }, label, input(k, { type: "text", value: query.get(k) || "", placeholder: ph }))),
      TIMES.map(([k, label]) => h("label", { for: `h-${k}` }, label, input(k, { type: "datetime-local", value: query.get(k) ? toLocal(query.get(k)) : "" }))),
      BOOLS.map(([k, label]) => h("label", { for: `h-${k}` }, label, select(k, [["", "Any"], ["true", "Yes"], ["false", "No"]], query.get(k)))),
      h("label", { for: "h-sort" }, "Sort by", select("sort", SORTS.map((s) => [s, s]), query.get("sort") || "startsAt")),
      h("label", { for: "h-direction" }, "Direction", select("direction", [["desc", "Descending"], ["asc", "Ascending"]], query.get("direction") || "desc")),
      h("label", { for: "h-limit" }, "Page size", select("limit", ["25", "50", "100", "250"].map((n) => [n, n]), query.get("limit") || "50")),
      h("label", { for: "h-filter", class: "wide" }, "Label matchers (one per line, Alertmanager syntax)",
        fields.filter = h("textarea", { id: "h-filter", rows: 2, placeholder: 'team=~"db|storage"' }, query.getAll("filter").join("\n")))),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Search"),
      h("button", { type: "button", onclick: () => { location.hash = "#/history"; } }, "Reset")));
  const results = h("div", { "aria-live": "polite" });
  mount(main, h("h1", null, "History"), form, results);

  function params() {
    const q = new URLSearchParams();
    for (const [k, el] of Object.entries(fields)) {
      if (k === "filter") {
        for (const line of el.value.split("\n")) if (line.trim()) q.append("filter", line.trim());
      } else if (TIMES.some((t) => t[0] === k)) {
        if (el.value) q.set(k, new Date(el.value).toISOString());
      } else if (el.value && !(k === "sort" && el.value === "startsAt") && !(k === "direction" && el.value === "desc")) {
        q.set(k, el.value);
      }
    }
    return q;
  }

  async function search(cursor) {
    const q = params();
    if (cursor) q.set("cursor", cursor);
    setQuery(q);
    mount(results, h("p", { class: "muted" }, "Searching…"));
    const p = {};
    for (const k of new Set(q.keys())) p[k] = q.getAll(k);
    let page;
    try {
      page = await api("history", { params: p });
    } catch (e) {
      mount(results, errorBox(e));
      return;
    }
    draw(page, cursor);
  }

  function draw(page, cursor) {
    const start = cursors.length * Number(fields.limit.value) + 1;
    const nav = h("div", { class: "actions" },
      h("span", null, page.items.length
        ? `Showing ${start}–${start + page.items.length - 1} of ${page.total}${page.totalExact ? "" : "+"}`
        : "No occurrence matches."),
      cursor ? h("button", { type: "button", onclick: () => { cursors.length = 0; search(null); } }, "First page") : null,
      cursors.length ? h("button", { type: "button", onclick: () => { const prev = cursors.pop(); search(prev || null); } }, "Previous page") : null,
      page.nextCursor ? h("button", { type: "button", class: "primary", onclick: () => { cursors.push(cursor); search(page.nextCursor); } }, "Next page") : null);
    mount(results, nav,
      page.items.length ? table(["Alert", "Labels", "Status", "Started", "Ended", "Duration", "Muted", "Notifications"], page.items.map((o) => h("tr", null,
        h("td", null, h("a", { href: `#/alert/${o.fingerprint}` }, o.labels.alertname || o.fingerprint)),
        h("td", null, labelChips(Object.fromEntries(Object.entries(o.labels).filter(([k]) => k !== "alertname")))),
        h("td", null, badge(o.status)),
        h("td", null, timeEl(o.startsAt)),
        h("td", null, timeEl(o.endsAt)),
        h("td", { class: "num" }, duration(o.duration)),
        h("td", null, [o.silenced ? badge("silenced") : null, o.inhibited ? badge("inhibited") : null].filter(Boolean).length ? [o.silenced ? badge("silenced") : null, " ", o.inhibited ? badge("inhibited") : null] : "—"),
        h("td", null, `${o.notifications.sent} sent, ${o.notifications.failed} failed`))), { "aria-label": "Alert occurrences" }) : null);
  }

  for (const k of query.keys()) if (!KNOWN.has(k)) clear(results).append(errorBox(new Error(`Unknown parameter ${k} ignored.`)));
  if (!query.get("cursor")) cursors.length = 0;
  search(query.get("cursor"));
  return null;
}
