// Deliveries: the durable queue (pending, in flight, done) and its dead letters, one
// notification's alerts and last error, and re-drive (one dead letter, or all of a receiver's).

import { h, mount, setQuery, badge, timeEl, errorBox, toast, table, labelChips } from "./dom.js";
import { api } from "./api.js";
import { can } from "./session.js";

const STATES = [["", "All"], ["pending", "Pending"], ["inflight", "In flight"], ["done", "Done"], ["dead", "Dead letters"]];
const cursors = [];

export function render(main, { args, query }) {
  if (args[0]) return detail(main, args[0]);
  let state = STATES.some(([s]) => s === query.get("state")) ? query.get("state") : "";
  const receiver = h("input", { type: "text", id: "d-receiver", value: query.get("receiver") || "", placeholder: "any" });
  const tabs = h("div", { class: "tabs", role: "group", "aria-label": "Delivery state" });
  const out = h("div", { "aria-live": "polite" });
  mount(main, h("h1", null, "Deliveries"),
    h("p", { class: "muted" }, "Every notification is a job in the delivery queue until it is sent; what cannot be sent becomes a dead letter, kept to be re-driven."),
    tabs,
    h("form", { class: "toolbar", onsubmit: (ev) => { ev.preventDefault(); cursors.length = 0; load(null); } },
      h("label", { for: "d-receiver" }, "Receiver", receiver), h("button", { type: "submit" }, "Filter"),
      can("delivery:redrive") ? h("button", { type: "button", class: "danger", id: "redrive-all", onclick: redriveAll }, "Re-drive all dead letters") : null),
    out);

  function drawTabs() {
    mount(tabs, STATES.map(([s, label]) => h("button", { type: "button", "aria-pressed": s === state ? "true" : "false",
      onclick: () => { state = s; cursors.length = 0; drawTabs(); load(null); } }, label)));
  }

  async function redriveAll() {
    try {
      const r = await api("api/ampp/v1/deliveries/redrive", { method: "POST", params: { receiver: receiver.value.trim() } });
      toast(`${r.redriven} dead letter${r.redriven === 1 ? "" : "s"} re-driven, ${r.skipped} skipped (superseded by newer notifications).`);
      load(null);
    } catch (e) {
      toast(`Re-drive failed: ${e.message}`);
    }
  }

  async function load(cursor) {
    const q = new URLSearchParams();
    if (state) q.set("state", state);
    if (receiver.value.trim()) q.set("receiver", receiver.value.trim());
    if (cursor) q.set("cursor", cursor);
    setQuery(q);
    let page;
    try {
      page = await api("api/ampp/v1/deliveries", { params: { state, receiver: receiver.value.trim(), cursor, limit: 50 } });
    } catch (e) {
      mount(out, errorBox(e));
      return;
    }
    mount(out,
      page.deliveries.length ? table(["ID", "State", "Receiver", "Group", "Alerts", "Attempts", "Last error", "Updated", ""], page.deliveries.map((d) => h("tr", { "data-delivery": d.id },
        h("td", null, h("a", { href: `#/deliveries/${d.id}` }, `#${d.id}`)),
        h("td", null, badge(d.state), d.outcome && d.outcome !== d.state ? [" ", badge(d.outcome)] : null),
        h("td", null, d.receiver, h("span", { class: "muted" }, `/${d.integration}`)),
        h("td", null, labelChips(d.groupLabels)),
        h("td", { class: "num" }, `${d.firing} firing, ${d.resolved} resolved`),
        h("td", { class: "num" }, String(d.attempts)),
        h("td", null, d.lastError || "—"),
        h("td", null, timeEl(d.updatedAt, true)),
        h("td", null, d.state === "dead" && can("delivery:redrive")
          ? h("button", { type: "button", class: "small", "aria-label": `Re-drive delivery ${d.id}`, onclick: () => redrive(d.id, () => load(cursor)) }, "Re-drive") : null))), { "aria-label": "Deliveries" })
        : h("p", { class: "muted" }, "No notifications here."),
      h("div", { class: "actions" },
        cursors.length ? h("button", { type: "button", onclick: () => load(cursors.pop() || null) }, "Previous page") : null,
        page.nextCursor ? h("button", { type: "button", onclick: () => { cursors.push(cursor); load(page.nextCursor); } }, "Next page") : null));
  }

  drawTabs();
  if (!query.get("cursor")) cursors.length = 0;
  load(query.get("cursor"));
  return null;
}

async function redrive(id, after) {
  try {
    await api(`api/ampp/v1/deliveries/${id}/redrive`, { method: "POST" });
    toast(`Delivery #${id} re-driven: it is pending again.`);
    after();
  } catch (e) {
    toast(`Re-drive of #${id} failed: ${e.message}`);
  }
}

function detail(main, id) {
  const out = h("div");
  mount(main, h("p", null, h("a", { href: "#/deliveries" }, "← Deliveries")), h("h1", null, `Delivery #${id}`), out);
  async function load() {
    let d;
    try {
      d = await api(`api/ampp/v1/deliveries/${encodeURIComponent(id)}`);
    } catch (e) {
      mount(out, errorBox(e));
      return;
    }
    mount(out,
      h("dl", { class: "kv card" },
        h("dt", null, "State"), h("dd", null, badge(d.state), d.outcome ? [" ", badge(d.outcome)] : null),
        h("dt", null, "Receiver"), h("dd", null, `${d.receiver} / ${d.integration} #${d.index}`),
        h("dt", null, "Group"), h("dd", null, labelChips(d.groupLabels)),
        h("dt", null, "Attempts"), h("dd", null, String(d.attempts)),
        h("dt", null, "Last error"), h("dd", null, d.lastError || "—"),
        h("dt", null, "Next attempt"), h("dd", null, timeEl(d.nextAttemptAt)),
        h("dt", null, "Flushed"), h("dd", null, timeEl(d.flushedAt)),
        h("dt", null, "Created"), h("dd", null, timeEl(d.createdAt)),
        h("dt", null, "Updated"), h("dd", null, timeEl(d.updatedAt))),
      d.state === "dead" && can("delivery:redrive") ? h("button", { type: "button", class: "primary", onclick: () => redrive(d.id, load) }, "Re-drive") : null,
      h("h2", null, `Alerts (${d.alerts.length})`),
      table(["Alert", "Status", "Labels", "Started"], d.alerts.map((a) => h("tr", null,
        h("td", null, h("a", { href: `#/alert/${a.fingerprint}` }, a.labels.alertname || a.fingerprint)),
        h("td", null, badge(a.status)), h("td", null, labelChips(a.labels)), h("td", null, timeEl(a.startsAt))))));
  }
  load();
  return null;
}
