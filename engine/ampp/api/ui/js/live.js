// Live updates: one EventSource on api/ampp/v1/events for the whole page; pages subscribe to
// the counters they care about ("alerts", "silences") and fetch again when one moves.

const listeners = new Set();
let source = null;
let last = null;
let poll = null;

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

export function startLive() {
  if (source) return;
  source = new EventSource(new URL("api/ampp/v1/events", document.baseURI), { withCredentials: true });
  const onVersions = (ev) => dispatch(JSON.parse(ev.data));
  source.addEventListener("hello", (ev) => {
    indicator("on", "live");
    clearInterval(poll);
    poll = null;
    // After a reconnect the server's counters may have restarted: refresh everything.
    last = null;
    onVersions(ev);
  });
  source.addEventListener("change", onVersions);
  source.onerror = () => {
    indicator("off", "reconnecting");
    // While the stream is down, refresh every 30 s so the page never goes stale unnoticed.
    if (!poll) poll = setInterval(() => { for (const fn of listeners) fn(new Set(["alerts", "silences"])); }, 30000);
  };
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
  let last = 0;
  let timer = null;
  let pending = new Set();
  return (changed) => {
    for (const c of changed) pending.add(c);
    const run = () => {
      timer = null;
      last = Date.now();
      const set = pending;
      pending = new Set();
      fn(set);
    };
    if (timer) return;
    const wait = last + ms - Date.now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
}

