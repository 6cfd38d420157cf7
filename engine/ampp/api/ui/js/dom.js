// Small DOM helpers: an element builder and formatters shared by the pages.

// h("a", {href: "#", class: "x", onclick: fn}, "text", child...) -> element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k === "value") el.value = v;
      else if (k === "checked" || k === "selected" || k === "disabled") el[k] = Boolean(v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// Replaces el's children with these (null, false and undefined skipped, arrays flattened).
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// The page's URL fragment: "#/silences/new?filter=a" -> {page, args, query}.
export function route() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || "alerts", args: parts.slice(1), query: new URLSearchParams(qs || "") };
}

// Replaces the fragment's query without a navigation (the page already shows it).
export function setQuery(query) {
  const { page, args } = route();
  const qs = query.toString();
  const path = ["#", page, ...args.map(encodeURIComponent)].join("/");
  history.replaceState(null, "", qs ? `${path}?${qs}` : path);
}

export function link(hash, text, attrs = {}) {
  return h("a", { href: hash, ...attrs }, text);
}

export function toast(message, ms = 5000) {
  const el = document.getElementById("toast");
  clear(el).append(message);
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => clear(el), ms);
}

export function badge(kind, text = kind) {
  return h("span", { class: `badge ${kind}` }, text);
}

export function labelChip(name, value, onclick) {
  const text = `${name}="${value}"`;
  if (!onclick) return h("span", { class: "chip" }, text);
  return h("button", { type: "button", class: "chip", title: `Filter by ${text}`, onclick: () => onclick(name, value) }, text);
}

export function labelChips(labels, onclick) {
  return h("span", { class: "chips" }, Object.entries(labels || {}).map(([k, v]) => labelChip(k, v, onclick)));
}

const UNITS = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];

// 3725 -> "1h 2m"; the two largest units.
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  let s = Math.max(0, Math.round(seconds));
  if (s === 0) return "0s";
  const out = [];
  for (const [u, n] of UNITS) {
    if (s >= n) {
      out.push(`${Math.floor(s / n)}${u}`);
      s %= n;
    }
    if (out.length === 2) break;
  }
  return out.join(" ");
}

// "2m ago" / "in 3h" relative to now.
export function ago(iso) {
  if (!iso) return "—";
  const d = (Date.now() - Date.parse(iso)) / 1000;
  return d >= 0 ? `${duration(d)} ago` : `in ${duration(-d)}`;
}

export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

// <time> with the local time shown and the exact instant as its title.
export function timeEl(iso, relative = false) {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: iso, title: iso }, relative ? ago(iso) : time(iso));
}

export function table(headers, rows, attrs = {}) {
  return h("div", { class: "table-wrap" },
    h("table", attrs,
      h("thead", null, h("tr", null, headers.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.text ?? c)))),
      h("tbody", null, rows)));
}

// An error as the page shows it; a refusal says what to do about it: sign in (401), or that the
// role does not allow it (403, the server's message names the role needed).
export function errorBox(err) {
  const message = String(err.message || err);
  if (err.status === 401) {
    return h("p", { class: "error", role: "alert" }, "Not signed in, or the sign-in has expired (", message, "). ",
      h("a", { href: loginHash() }, "Sign in"));
  }
  if (err.status === 403) return h("p", { class: "error", role: "alert" }, "Your role does not allow this (", message, ").");
  return h("p", { class: "error", role: "alert" }, message);
}

// The sign-in page, coming back here afterwards.
export function loginHash() {
  const here = location.hash.startsWith("#/login") ? "" : location.hash;
  return here && here !== "#/" ? `#/login?next=${encodeURIComponent(here)}` : "#/login";
}

// Renders an annotation value: links stay links.
export function annotationValue(v) {
  return /^https?:\/\/\S+$/.test(v) ? h("a", { href: v, rel: "noopener noreferrer" }, v) : v;
}

export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
