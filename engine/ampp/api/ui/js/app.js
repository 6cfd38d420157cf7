// The dashboard's entry: a router over the URL fragment (#/page/args?query, so every view is
// linkable and works under any route prefix), the theme switch, keyboard shortcuts, live updates,
// and who is signed in (a page is shown once the server has said who the user is).

import { h, clear, mount, route, errorBox, loginHash, toast } from "./dom.js";
import { startLive, stopLive } from "./live.js";
import { session, loadSession, signOut, can, authOn, signedIn, ownCredential } from "./session.js";

const PAGES = {
  alerts: () => import("./alerts.js"),
  alert: () => import("./alert.js"),
  silences: () => import("./silences.js"),
  history: () => import("./history.js"),
  report: () => import("./report.js"),
  deliveries: () => import("./deliveries.js"),
  status: () => import("./status.js"),
  login: () => import("./login.js"),
};
const NAV = { alert: "alerts" };
const TITLES = { alerts: "Alerts", alert: "Alert", silences: "Silences", history: "History", report: "Report", deliveries: "Deliveries", status: "Status", login: "Sign in" };

let cleanup = null;
let generation = 0;

async function show() {
  const main = document.getElementById("main");
  const r = route();
  const load = PAGES[r.page];
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  const mine = ++generation;
  for (const a of document.querySelectorAll(".top nav a")) {
    if (a.dataset.page === (NAV[r.page] || r.page)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${TITLES[r.page] || "Not found"} · Alertmanager++`;
  if (load && r.page !== "login" && !can("read")) { // nothing to show before signing in
    history.replaceState(null, "", loginHash());
    return show();
  }
  if (!load) {
    clear(main).append(h("h1", null, "Not found"), h("p", null, "No such page. ", h("a", { href: "#/alerts" }, "Go to the alerts.")));
    return;
  }
  try {
    const mod = await load();
    if (mine !== generation) return;
    cleanup = mod.render(main, r);
  } catch (e) {
    console.warn(e);
    clear(main).append(errorBox(e));
  }
}

function applyTheme(theme) {
  const root = document.documentElement;
  if (theme) root.dataset.theme = theme;
  const dark = root.dataset.theme ? root.dataset.theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  const button = document.getElementById("theme");
  button.setAttribute("aria-pressed", dark ? "true" : "false");
}

function toggleTheme() {
  const root = document.documentElement;
  const dark = root.dataset.theme ? root.dataset.theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  const next = dark ? "light" : "dark";
  try {
    localStorage.setItem("ampp.theme", next);
  } catch { /* not kept: fine */ }
  applyTheme(next);
}

// "/" focuses the page's filter; "g" then a letter goes to a page (as in many dashboards).
const GO = { a: "alerts", s: "silences", h: "history", r: "report", d: "deliveries", t: "status" };
let pendingG = 0;

function onKey(ev) {
  const t = ev.target;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t.isContentEditable) return;
  if (ev.key === "/") {
    const input = document.querySelector("main [role=combobox], main input[type=search], main input[type=text]");
    if (input) {
      ev.preventDefault();
      input.focus();
    }
  } else if (ev.key === "g") {
    pendingG = Date.now();
  } else if (pendingG && Date.now() - pendingG < 1500 && GO[ev.key]) {
    pendingG = 0;
    location.hash = `#/${GO[ev.key]}`;
  }
}

function init() {
  applyTheme();
  document.getElementById("theme").addEventListener("click", toggleTheme);
  document.getElementById("skip").addEventListener("click", (ev) => {
    ev.preventDefault(); // the fragment is the router's
    document.getElementById("main").focus();
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => applyTheme());
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", () => {
    show();
    document.getElementById("main").focus({ preventScroll: true });
  });
  window.addEventListener("ampp:session", () => { // signed in or out, or the role changed
    showUser();
    if (can("read")) startLive();
    else stopLive("signed out");
    show();
  });
  loadSession().catch((e) => {
    console.warn("who am I:", e.message);
    showUser();
    startLive();
    show();
  });
}

// Who is signed in, top right (nothing when the server has no authentication).
function showUser() {
  const el = document.getElementById("user");
  if (!authOn()) {
    clear(el);
    return;
  }
  const out = async () => {
    await signOut();
    toast("Signed out.");
  };
  mount(el,
    signedIn()
      ? [h("span", { class: "sr" }, "Signed in as "), h("strong", null, session.name), ` · ${session.role}`]
      : h("span", null, session.role === "anonymous" ? "Not signed in" : `Not signed in · ${session.role}`),
    " ",
    signedIn() && ownCredential()
      ? h("button", { type: "button", class: "small", onclick: out }, "Sign out")
      : !signedIn() ? h("a", { href: loginHash(), class: "button small", onclick: (ev) => { ev.currentTarget.href = loginHash(); } }, "Sign in") : null);
}

init();
