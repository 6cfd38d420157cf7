// Report: /report's figures as charts for a chosen window (by severity, status, receiver,
// namespace and alert name, the noisiest alerts, flapping, time to resolve, notifications,
// silences). Each chart is a table with a bar per row, so the numbers stay readable to all.

import { h, mount, setQuery, errorBox, duration, labelChips, table } from "./dom.js";
import { api } from "./api.js";

const WINDOWS = [["1h", 3600], ["24h", 86400], ["7d", 7 * 86400], ["30d", 30 * 86400]];

function bars(title, entries, { failed } = {}) {
  const max = Math.max(1, ...entries.map(([, n, f]) => n + (f || 0)));
  const section = h("section", { class: "card", "aria-label": title }, h("h2", null, title));
  if (!entries.length) {
    section.append(h("p", { class: "muted" }, "Nothing in this window."));
    return section;
  }
  const fill = (n, cls) => {
    const el = h("span", { class: `fill ${cls || ""}` });
    el.style.width = `${(100 * n) / max}%`; // CSSOM, which the page's CSP allows
    return el;
  };
  section.append(table([title.split(" ")[0] === "Notifications" ? "Receiver" : "Value", { text: failed ? "Sent / failed" : "Count", num: true }, { text: "Share", num: false }],
    entries.map(([label, n, f]) => h("tr", null,
      h("td", null, label), h("td", { class: "num" }, failed ? `${n} / ${f}` : String(n)),
      h("td", { class: "bar", "aria-hidden": "true" }, fill(n), failed ? fill(f, "failed") : null))), { class: "bars" }));
  return section;
}

function sorted(obj) {
  return Object.entries(obj || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function render(main, { query }) {
  let win = query.get("window") || (query.get("from") ? "" : "24h");
  const from = h("input", { type: "datetime-local", id: "r-from" });
  const to = h("input", { type: "datetime-local", id: "r-to" });
  const out = h("div", { "aria-live": "polite" });
  const buttons = WINDOWS.map(([w]) => h("button", { type: "button", "aria-pressed": w === win ? "true" : "false", onclick: () => { win = w; go(); } }, `Last ${w}`));
  mount(main, h("h1", null, "Report"),
    h("div", { class: "toolbar" }, h("div", { class: "tabs", role: "group", "aria-label": "Window" }, buttons),
      h("form", { class: "actions", onsubmit: (ev) => { ev.preventDefault(); win = ""; go(); } },
        h("label", { for: "r-from" }, "From", from), h("label", { for: "r-to" }, "To", to),
        h("button", { type: "submit" }, "Show"))),
    out);
  if (query.get("from")) from.value = local(query.get("from"));
  if (query.get("to")) to.value = local(query.get("to"));

  async function go() {
    const q = new URLSearchParams();
    const params = {};
    if (win) {
      q.set("window", win);
      const secs = WINDOWS.find((w) => w[0] === win)?.[1] || 86400;
      params.from = new Date(Date.now() - secs * 1000).toISOString();
    } else {
      if (from.value) params.from = new Date(from.value).toISOString();
      if (to.value) params.to = new Date(to.value).toISOString();
      for (const [k, v] of Object.entries(params)) q.set(k, v);
    }
    buttons.forEach((b, i) => b.setAttribute("aria-pressed", WINDOWS[i][0] === win ? "true" : "false"));
    setQuery(q);
    mount(out, h("p", { class: "muted" }, "Loading…"));
    let r;
    try {
      r = await api("report", { params });
    } catch (e) {
      mount(out, errorBox(e));
      return;
    }
    const ttr = r.timeToResolve || {};
    mount(out,
      h("div", { class: "cards" },
        h("section", { class: "card", "aria-label": "Occurrences" }, h("h2", null, "Occurrences"), h("p", { class: "stat" }, String(r.occurrences))),
        h("section", { class: "card", "aria-label": "Time to resolve" }, h("h2", null, "Time to resolve"),
          h("dl", { class: "kv" },
            h("dt", null, "Resolved"), h("dd", null, String(ttr.count ?? 0)),
            h("dt", null, "Mean"), h("dd", null, duration(ttr.mean)),
            h("dt", null, "Median (p50)"), h("dd", null, duration(ttr.p50)),
            h("dt", null, "p95"), h("dd", null, duration(ttr.p95)))),
        h("section", { class: "card", "aria-label": "Silences" }, h("h2", null, "Silences created"), h("p", { class: "stat" }, String(r.silences?.created ?? 0)),
          h("ul", null, sorted(r.silences?.byActor).map(([who, n]) => h("li", null, `${who}: ${n}`))))),
      h("div", { class: "cards" },
        bars("Severity", sorted(r.counts?.severity)),
        bars("Status", sorted(r.counts?.status)),
        bars("Receiver", sorted(r.counts?.receiver)),
        bars("Namespace", sorted(r.counts?.namespace)),
        bars("Alert name", sorted(r.counts?.alertname)),
        bars("Notifications per receiver", Object.entries(r.notifications || {}).map(([k, v]) => [k, v.sent, v.failed]), { failed: true })),
      h("section", { class: "card", "aria-label": "Noisiest alerts" }, h("h2", null, "Noisiest alerts"),
        r.noisiest?.length ? table(["Alert", "Labels", { text: "Occurrences", num: true }], r.noisiest.map((n) => h("tr", null,
          h("td", null, h("a", { href: `#/alert/${n.fingerprint}` }, n.labels.alertname || n.fingerprint)),
          h("td", null, labelChips(n.labels)), h("td", { class: "num" }, String(n.occurrences))))) : h("p", { class: "muted" }, "Nothing in this window.")),
      h("section", { class: "card", "aria-label": "Flapping alerts" }, h("h2", null, "Flapping alerts"),
        r.flapping?.length ? table(["Alert", "Labels", { text: "Changes", num: true }], r.flapping.map((f) => h("tr", null,
          h("td", null, h("a", { href: `#/alert/${f.fingerprint}` }, f.labels?.alertname || f.fingerprint)),
          h("td", null, labelChips(f.labels)), h("td", { class: "num" }, String(f.stateChanges))))) : h("p", { class: "muted" }, "No alert flapped in this window.")));
  }

  go();
  return null;
}

function local(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
