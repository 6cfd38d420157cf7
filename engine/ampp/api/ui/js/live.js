// Live updates: one stream of api/ampp/v1/events (Server-Sent Events) for the whole page; pages
// subscribe to the counters they care about ("alerts", "silences") and fetch again when one
// moves. The stream is read with fetch rather than an EventSource, which cannot send the
// Authorization header the user signed in with.

import { authHeaders } from "./api.js";

const listeners = new Set();
let last = null;
let poll = null;
let current = null; // the AbortController of the stream being read
let retryMs = 2000; // the server's "retry:" field replaces it
let timer = null;

function indicator(state, text) {
  const el = document.getElementById("live");
  if (!el) return;
  el.className = `live ${state}`;
  el.textContent = text;
}

function dispatch(versions) {
  const changed = new Set();
  for (const k of Object.keys(versions)) if (!last || last[k] !== versions[k]) changed.add(k);
  last = versions;
  if (changed.size) for (const fn of listeners) fn(changed);
}

// (Re)connects with the current credential.
export function startLive() {
  stopLive();
  const mine = (current = new AbortController());
  read(mine);
}

export function stopLive(text = "") {
  if (current) current.abort();
  current = null;
  clearTimeout(timer);
  clearInterval(poll);
  poll = null;
  if (text) indicator("off", text);
}

async function read(ctl) {
  let resp;
  try {
    resp = await fetch(new URL("api/ampp/v1/events", document.baseURI), {
      headers: { Accept: "text/event-stream", ...authHeaders() }, credentials: "same-origin", cache: "no-store", signal: ctl.signal,
    });
  } catch {
    return dropped(ctl);
  }
  if (resp.status === 401 || resp.status === 403) {
    stopLive("signed out"); // until the user signs in again
    return;
  }
  if (!resp.ok || !resp.body) return dropped(ctl);
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "";
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        if (line === "") { // the end of an event
          if (data.length) received(event || "message", data.join("\n"));
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue; // a keep-alive comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = val;
        else if (field === "data") data.push(val);
        else if (field === "retry" && /^\d+$/.test(val)) retryMs = Number(val);
      }
    }
  } catch { /* aborted, or the connection dropped */ }
  dropped(ctl);
}

function received(event, text) {
  if (event === "hello") {
    indicator("on", "live");
    clearInterval(poll);
    poll = null;
    // After a reconnect the server's counters may have restarted: refresh everything.
    last = null;
  } else if (event !== "change") return;
  dispatch(JSON.parse(text));
}

function dropped(ctl) {
  if (ctl.signal.aborted || ctl !== current) return;
  indicator("off", "reconnecting");
  // While the stream is down, refresh every 30 s so the page never goes stale unnoticed.
  if (!poll) poll = setInterval(() => { for (const fn of listeners) fn(new Set(["alerts", "silences"])); }, 30000);
  timer = setTimeout(() => { if (ctl === current) read(ctl); }, retryMs);
}

// fn(changedSet) on changes, at most once a second (a page refetches what it shows: under a
// storm of alerts that is enough); returns the unsubscribe function.
export function onChange(fn) {
  let active = true;
  const throttled = throttle((changed) => { if (active) fn(changed); }, 1000);
  listeners.add(throttled);
  return () => {
    active = false; // a call still waiting for its turn is dropped with the page
    listeners.delete(throttled);
  };
}

// At most one call per `ms`, the last request always honoured (changes are unioned).
function throttle(fn, ms) {
  let lastRun = 0;
  let pending = null;
  let changes = new Set();
  return (changed) => {
    for (const c of changed) changes.add(c);
    const run = () => {
      pending = null;
      lastRun = Date.now();
      const set = changes;
      changes = new Set();
      fn(set);
    };
    if (pending) return;
    const wait = lastRun + ms - Date.now();
    if (wait <= 0) run();
    else pending = setTimeout(run, wait);
  };
}
