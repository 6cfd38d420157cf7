// Silences: the list (by state, searchable), one silence with the alerts it mutes, and the
// editor (matchers, start, duration or end, creator, comment) with a live preview of the alerts
// it would mute before saving. Create from an alert, edit, expire, recreate an expired one.

import { h, clear, mount, setQuery, badge, timeEl, errorBox, toast, debounce, duration, labelChips, loginHash } from "./dom.js";
import { api } from "./api.js";
import { store, ensureGroups, alertState } from "./store.js";
import { fromSilenceMatcher, toSilenceMatcher, matcherString, parseMatchers, TYPES, MatcherError } from "./matchers.js";
import { onChange } from "./live.js";
import { can, session, signedIn } from "./session.js";

const STATES = ["active", "pending", "expired"];

export function render(main, { args, query }) {
  if (args[0] === "new") return editor(main, null, query);
  if (args[0] && args[1] === "edit") return editor(main, args[0], query);
  if (args[0]) return detail(main, args[0]);
  return list(main, query);
}

function matchersEl(s) {
  return h("span", { class: "chips" }, s.matchers.map((m) => h("span", { class: "chip" }, matcherString(fromSilenceMatcher(m)))));
}

function affected(id) {
  let n = 0;
  for (const a of store.byFingerprint.values()) if (a.status.silencedBy.includes(id)) n++;
  return n;
}

async function expire(s, after) {
  try {
    await api(`api/v2/silence/${encodeURIComponent(s.id)}`, { method: "DELETE" });
    toast(h("span", null, "Silence expired. ", h("a", { href: `#/silences/new?from=${s.id}` }, "Recreate it")));
    after();
  } catch (e) {
    toast(`Could not expire the silence: ${e.message}`);
  }
}

function actions(s, after) {
  const st = s.status.state;
  const out = [h("a", { href: `#/silences/${s.id}`, class: "button small", "aria-label": `View silence ${s.id}` }, "View")];
  if (can("silence:write")) {
    if (st !== "expired") {
      out.push(h("a", { href: `#/silences/${s.id}/edit`, class: "button small", "aria-label": `Edit silence ${s.id}` }, "Edit"));
      out.push(h("button", { type: "button", class: "small danger", "aria-label": `Expire silence ${s.id}`, onclick: () => expire(s, after) }, "Expire"));
    } else {
      out.push(h("a", { href: `#/silences/new?from=${s.id}`, class: "button small", "aria-label": `Recreate silence ${s.id}` }, "Recreate"));
    }
  }
  return h("span", { class: "actions" }, out);
}

function list(main, query) {
  let state = STATES.includes(query.get("state")) ? query.get("state") : "active";
  let text = query.get("q") || "";
  let all = [];
  const tabs = h("div", { class: "tabs", role: "group", "aria-label": "Silence state" });
  const results = h("div");
  const search = h("input", { type: "search", value: text, "aria-label": "Search silences (matchers, creator, comment)", placeholder: "Search matchers, creator, comment",
    oninput: debounce(() => { text = search.value; update(); }, 150) });
  mount(main,
    h("h1", null, "Silences"),
    h("div", { class: "toolbar" }, search,
      can("silence:write") ? h("a", { href: "#/silences/new", class: "button primary" }, "New silence") : null),
    tabs, results);

  function update() {
    const q = new URLSearchParams();
    if (state !== "active") q.set("state", state);
    if (text) q.set("q", text);
    setQuery(q);
    draw();
  }

  function draw() {
    clear(tabs);
    for (const s of STATES) {
      const n = all.filter((x) => x.status.state === s).length;
      tabs.append(h("button", { type: "button", "aria-pressed": s === state ? "true" : "false",
        onclick: () => { state = s; update(); } }, `${s[0].toUpperCase()}${s.slice(1)} (${n})`));
    }
    const needle = text.toLowerCase();
    const shown = all.filter((s) => s.status.state === state && (!needle ||
      [s.createdBy, s.comment, s.id, ...s.matchers.map((m) => matcherString(fromSilenceMatcher(m)))].join(" ").toLowerCase().includes(needle)));
    clear(results);
    if (!shown.length) {
      results.append(h("p", { class: "muted" }, `No ${state} silences${needle ? " match" : ""}.`));
      return;
    }
    for (const s of shown) {
      const n = affected(s.id);
      results.append(h("article", { class: "card", "aria-label": `Silence ${s.id}`, "data-silence": s.id },
        h("div", { class: "actions" }, badge(s.status.state), matchersEl(s)),
        h("p", null,
          s.status.state === "pending" ? ["Starts ", timeEl(s.startsAt, true), ", "] : null,
          s.status.state === "expired" ? ["Expired ", timeEl(s.endsAt, true)] : ["Ends ", timeEl(s.endsAt, true), " (", timeEl(s.endsAt), ")"],
          " · by ", h("strong", null, s.createdBy),
          s.status.state === "active" ? ` · mutes ${n} alert${n === 1 ? "" : "s"}` : null),
        h("p", null, s.comment),
        actions(s, refresh)));
    }
  }

  async function refresh() {
    try {
      const [sils] = await Promise.all([api("api/v2/silences"), ensureGroups()]);
      all = sils;
      draw();
    } catch (e) {
      mount(results, errorBox(e));
    }
  }

  refresh();
  return onChange((changed) => { if (changed.has("silences") || changed.has("alerts")) refresh(); });
}

function detail(main, id) {
  const body = h("div");
  mount(main, h("h1", null, "Silence"), body);
  async function refresh() {
    let s;
    let muted;
    try {
      s = await api(`api/v2/silence/${encodeURIComponent(id)}`);
      muted = s.status.state === "expired" ? [] : await api("api/v2/alerts", { params: { filter: s.matchers.map((m) => matcherString(fromSilenceMatcher(m))) } });
    } catch (e) {
      mount(body, errorBox(e.status === 404 ? new Error(`No silence ${id}.`) : e), h("p", null, h("a", { href: "#/silences" }, "All silences")));
      return;
    }
    mount(body,
      h("dl", { class: "kv card" },
        h("dt", null, "State"), h("dd", null, badge(s.status.state)),
        h("dt", null, "Matchers"), h("dd", null, matchersEl(s)),
        h("dt", null, "Starts"), h("dd", null, timeEl(s.startsAt)),
        h("dt", null, "Ends"), h("dd", null, timeEl(s.endsAt), " (", timeEl(s.endsAt, true), ")"),
        h("dt", null, "Created by"), h("dd", null, s.createdBy),
        h("dt", null, "Comment"), h("dd", null, s.comment),
        h("dt", null, "ID"), h("dd", { class: "mono" }, s.id),
        h("dt", null, "Updated"), h("dd", null, timeEl(s.updatedAt))),
      actions(s, refresh),
      h("h2", null, s.status.state === "expired" ? "Alerts" : `Alerts it matches (${muted.length})`),
      s.status.state === "expired" ? h("p", { class: "muted" }, "An expired silence mutes nothing.") : alertList(muted));
  }
  refresh();
  return onChange((changed) => { if (changed.has("silences") || changed.has("alerts")) refresh(); });
}

function alertList(alerts, limit = 50) {
  if (!alerts.length) return h("p", { class: "muted" }, "No alert matches.");
  return h("ul", { class: "plain-list" }, alerts.slice(0, limit).map((a) => h("li", { class: "alert" },
    h("div", { class: "line" }, badge(stateOf(a)), h("a", { href: `#/alert/${a.fingerprint}` }, a.labels.alertname || a.fingerprint)),
    labelChips(a.labels))),
  alerts.length > limit ? h("li", { class: "muted" }, `and ${alerts.length - limit} more`) : null);
}

function stateOf(a) {
  const s = alertState(a);
  return s === "unprocessed" ? "active" : s;
}

// -- the editor ------------------------------------------------------------------------------

const UNIT = { y: 365 * 86400, w: 7 * 86400, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

export function parseDuration(text) {
  const t = text.trim().replace(/\s+/g, "");
  if (!t || !/^(\d+(ms|y|w|d|h|m|s))+$/.test(t)) return null;
  let total = 0;
  for (const [, n, u] of t.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(n) * UNIT[u];
  return total;
}

function promDuration(seconds) {
  return duration(seconds).replace(/ /g, "");
}

function localInput(date) {
  const d = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function fromLocalInput(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

async function initialSilence(id, query) {
  const now = new Date();
  const blank = { matchers: [], startsAt: now, endsAt: new Date(now.getTime() + 2 * 3600e3), createdBy: "", comment: "" };
  if (id) {
    const s = await api(`api/v2/silence/${encodeURIComponent(id)}`);
    return { id: s.id, matchers: s.matchers.map(fromSilenceMatcher), startsAt: new Date(s.startsAt), endsAt: new Date(s.endsAt), createdBy: s.createdBy, comment: s.comment };
  }
  if (query.get("from")) {
    const s = await api(`api/v2/silence/${encodeURIComponent(query.get("from"))}`);
    const length = Math.max(3600e3, Date.parse(s.endsAt) - Date.parse(s.startsAt));
    return { matchers: s.matchers.map(fromSilenceMatcher), startsAt: now, endsAt: new Date(now.getTime() + length), createdBy: s.createdBy, comment: s.comment };
  }
  if (query.get("fp")) {
    await ensureGroups();
    const fp = query.get("fp");
    const labels = store.byFingerprint.get(fp)?.labels || (await api("history", { params: { fingerprint: fp, limit: 1 } })).items[0]?.labels;
    if (labels) blank.matchers = Object.entries(labels).map(([name, value]) => ({ name, type: "=", value }));
  }
  for (const f of query.getAll("filter")) {
    try {
      blank.matchers.push(...parseMatchers(f));
    } catch (e) {
      if (!(e instanceof MatcherError)) throw e;
    }
  }
  return blank;
}

function editor(main, id, query) {
  const title = id ? "Edit silence" : query.get("from") ? "Recreate silence" : "New silence";
  mount(main, h("h1", null, title), h("p", { class: "muted" }, "Loading…"));
  if (!can("silence:write")) {
    mount(main, h("h1", null, title), h("p", null, `Your role (${session.role}) cannot create or change silences: that needs an operator or an admin. `,
      signedIn() ? null : h("a", { href: loginHash() }, "Sign in")));
    return null;
  }
  let closed = false;
  initialSilence(id, query).then((s) => { if (!closed) form(main, title, s); }, (e) => mount(main, h("h1", null, title), errorBox(e)));
  return () => { closed = true; };
}

function form(main, title, s) {
  const rows = h("div", { class: "editor-matchers" });
  const names = h("datalist", { id: "label-names" }, [...store.labelValues.keys()].sort().map((k) => h("option", { value: k })));
  const preview = h("div", { "aria-live": "polite" });
  const problem = h("div", { role: "alert" });
  const start = h("input", { type: "datetime-local", id: "starts", value: localInput(s.startsAt), required: true });
  const end = h("input", { type: "datetime-local", id: "ends", value: localInput(s.endsAt), required: true });
  const length = h("input", { type: "text", id: "duration", value: promDuration((s.endsAt - s.startsAt) / 1000), inputmode: "text", "aria-describedby": "duration-help" });
  let author = s.createdBy;
  if (!author) {
    try { author = localStorage.getItem("ampp.author") || ""; } catch { author = ""; }
  }
  const creator = h("input", { type: "text", id: "creator", value: author, required: true, autocomplete: "username" });
  const comment = h("textarea", { id: "comment", required: true }, s.comment);

  function row(m) {
    const valueList = `values-${Math.random().toString(36).slice(2)}`;
    const name = h("input", { type: "text", value: m.name, list: "label-names", "aria-label": "Label name", class: "m-name", required: true });
    const op = h("select", { "aria-label": "Operator", class: "m-op" }, TYPES.map((t) => h("option", { value: t, selected: t === m.type }, t)));
    const value = h("input", { type: "text", value: m.value, list: valueList, "aria-label": "Label value", class: "m-value" });
    const values = h("datalist", { id: valueList });
    const fillValues = () => mount(values, [...(store.labelValues.get(name.value)?.keys() || [])].slice(0, 200).map((v) => h("option", { value: v })));
    name.addEventListener("change", fillValues);
    fillValues();
    const el = h("div", { class: "matcher-row" }, name, op, value, values,
      h("button", { type: "button", class: "small", "aria-label": "Remove this matcher", onclick: () => { el.remove(); schedule(); } }, "Remove"));
    for (const input of [name, op, value]) input.addEventListener("input", schedule);
    return el;
  }

  function matchers() {
    return [...rows.querySelectorAll(".matcher-row")].map((r) => ({
      name: r.querySelector(".m-name").value.trim(), type: r.querySelector(".m-op").value, value: r.querySelector(".m-value").value,
    })).filter((m) => m.name);
  }

  function syncEnd() {
    const secs = parseDuration(length.value);
    const st = fromLocalInput(start.value);
    if (secs !== null && st) end.value = localInput(new Date(st.getTime() + secs * 1000));
    schedule();
  }

  function syncDuration() {
    const st = fromLocalInput(start.value);
    const en = fromLocalInput(end.value);
    if (st && en && en > st) length.value = promDuration((en - st) / 1000);
    schedule();
  }

  let seq = 0;
  const schedule = debounce(async () => {
    const ms = matchers();
    const mine = ++seq;
    if (!ms.length) {
      mount(preview, h("p", { class: "muted" }, "Add a matcher to see the alerts it would mute."));
      return;
    }
    try {
      const alerts = await api("api/v2/alerts", { params: { filter: ms.map(matcherString) } });
      if (mine !== seq) return;
      mount(preview, h("h2", null, `Would mute ${alerts.length} alert${alerts.length === 1 ? "" : "s"} now`), alertList(alerts, 25));
    } catch (e) {
      if (mine === seq) mount(preview, errorBox(e));
    }
  }, 250);

  async function save(ev) {
    ev.preventDefault();
    clear(problem);
    const ms = matchers();
    const st = fromLocalInput(start.value);
    const en = fromLocalInput(end.value);
    const missing = !ms.length ? "at least one matcher" : !creator.value.trim() ? "who creates it" : !comment.value.trim() ? "a comment" : !st || !en ? "a start and an end" : null;
    if (missing) {
      problem.append(errorBox(new Error(`A silence needs ${missing}.`)));
      return;
    }
    try {
      localStorage.setItem("ampp.author", creator.value.trim());
    } catch { /* not remembered: fine */ }
    const body = {
      matchers: ms.map(toSilenceMatcher), startsAt: st.toISOString(), endsAt: en.toISOString(),
      createdBy: creator.value.trim(), comment: comment.value.trim(),
    };
    if (s.id) body.id = s.id;
    try {
      const res = await api("api/v2/silences", { method: "POST", body });
      toast(h("span", null, "Silence saved. ", h("a", { href: `#/silences/${res.silenceID}` }, "View it")));
      location.hash = `#/silences/${res.silenceID}`;
    } catch (e) {
      problem.append(errorBox(e));
    }
  }

  for (const m of s.matchers.length ? s.matchers : [{ name: "", type: "=", value: "" }]) rows.append(row(m));
  start.addEventListener("change", syncEnd);
  length.addEventListener("input", syncEnd);
  end.addEventListener("change", syncDuration);
  mount(main,
    h("h1", null, title),
    h("form", { class: "card", onsubmit: save, "aria-label": title },
      h("h2", null, "Matchers"),
      names, rows,
      h("p", null, h("button", { type: "button", onclick: () => { rows.append(row({ name: "", type: "=", value: "" })); rows.lastChild.querySelector("input").focus(); } }, "Add matcher")),
      h("div", { class: "form" },
        h("label", { for: "starts" }, "Starts", start),
        h("label", { for: "duration" }, "Duration", length, h("span", { id: "duration-help", class: "muted" }, "e.g. 2h, 1d12h")),
        h("label", { for: "ends" }, "Ends", end),
        h("label", { for: "creator" }, "Created by", creator),
        h("label", { for: "comment", class: "wide" }, "Comment", comment)),
      problem,
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary" }, s.id ? "Save" : "Create"),
        h("a", { href: s.id ? `#/silences/${s.id}` : "#/silences", class: "button" }, "Cancel"))),
    preview);
  schedule();
  return null;
}
