// The alert groups as routed (GET api/v2/alerts/groups), shared by the pages that show alerts,
// indexed for filtering and autocomplete.

import { api } from "./api.js";

export const store = {
  groups: [], // [{receiver, labels, alerts: [...]}, ...] as the API answers
  byFingerprint: new Map(), // fingerprint -> alert (its receivers listed once)
  labelValues: new Map(), // label name -> Map(value -> count)
  loadedAt: 0,
  loading: null,
};

export async function loadGroups() {
  if (store.loading) return store.loading;
  store.loading = (async () => {
    try {
      const groups = await api("api/v2/alerts/groups");
      index(groups);
      return store;
    } finally {
      store.loading = null;
    }
  })();
  return store.loading;
}

export async function ensureGroups() {
  return store.loadedAt ? store : loadGroups();
}

function index(groups) {
  const byFp = new Map();
  const values = new Map();
  for (const g of groups) {
    g.key = `${g.receiver.name}\u0000${JSON.stringify(g.labels)}`;
    for (const a of g.alerts) {
      if (byFp.has(a.fingerprint)) continue;
      byFp.set(a.fingerprint, a);
      for (const [k, v] of Object.entries(a.labels)) {
        let m = values.get(k);
        if (!m) values.set(k, (m = new Map()));
        m.set(v, (m.get(v) || 0) + 1);
      }
    }
  }
  store.groups = groups;
  store.byFingerprint = byFp;
  store.labelValues = values;
  store.loadedAt = Date.now();
}

// "active", "silenced", "inhibited" (an alert both silenced and inhibited counts as silenced).
export function alertState(a) {
  if (a.status.state !== "suppressed") return a.status.state;
  return a.status.silencedBy.length ? "silenced" : "inhibited";
}
