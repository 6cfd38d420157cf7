// Status: version and uptime, cluster and replicas, the running config (secrets hidden by the
// status API), the routing tree, and a tester: which routes a label set takes
// (`amtool config routes test`).

import { h, mount, badge, timeEl, errorBox, table } from "./dom.js";
import { api } from "./api.js";

export function render(main, { query }) {
  const info = h("div");
  const tree = h("div");
  const result = h("div", { "aria-live": "polite" });
  const labels = h("textarea", { id: "rt-labels", rows: 3, placeholder: "alertname=DiskFull\nseverity=critical" }, query.get("labels") || "");
  mount(main, h("h1", null, "Status"), info,
    h("section", { class: "card", "aria-labelledby": "h-tester" },
      h("h2", { id: "h-tester" }, "Route tester"),
      h("p", { class: "muted" }, "Which routes and receivers an alert with these labels takes. One name=value per line or comma-separated."),
      h("form", { onsubmit: (ev) => { ev.preventDefault(); test(); } },
        h("label", { for: "rt-labels", class: "wide" }, "Labels", labels),
        h("p", null, h("button", { type: "submit", class: "primary" }, "Test"))),
      result),
    h("section", { "aria-labelledby": "h-tree" }, h("h2", { id: "h-tree" }, "Routing tree"), tree));

  let root = null;

  function node(r, hits) {
    const hit = hits?.get(r.path);
    return h("li", null,
      h("div", { class: `node${hit ? " hit" : ""}`, "data-path": r.path },
        hit ? h("span", { class: "sr" }, "Matched: ") : null,
        r.matchers.length ? h("span", { class: "chips" }, r.matchers.map((m) => h("span", { class: "chip" }, m))) : h("strong", null, "root"),
        h("span", null, "→ ", h("strong", { class: "mono" }, r.receiver)),
        h("span", { class: "muted" }, `group by ${r.groupBy.length ? r.groupBy.join(", ") : "nothing"}`),
        h("span", { class: "muted" }, `wait ${r.groupWait}, interval ${r.groupInterval}, repeat ${r.repeatInterval}`),
        r.continue ? badge("pending", "continue") : null,
        r.muteTimeIntervals.length ? h("span", { class: "muted" }, `muted: ${r.muteTimeIntervals.join(", ")}`) : null,
        r.activeTimeIntervals.length ? h("span", { class: "muted" }, `active: ${r.activeTimeIntervals.join(", ")}`) : null,
        hit ? h("span", null, "groups as ", h("span", { class: "mono" }, JSON.stringify(hit.groupLabels))) : null),
      r.routes.length ? h("ul", { class: "tree" }, r.routes.map((c) => node(c, hits))) : null);
  }

  function drawTree(hits) {
    if (root) mount(tree, h("ul", { class: "tree root" }, node(root, hits)));
  }

  async function test() {
    const items = labels.value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
    const bad = items.find((s) => !s.includes("="));
    if (bad) {
      mount(result, errorBox(new Error(`"${bad}" is not name=value`)));
      return;
    }
    try {
      const r = await api("api/ampp/v1/routes/match", { params: { label: items.map((s) => s.replace(/^([^=]+)=\s*"?(.*?)"?$/, "$1=$2")) } });
      mount(result, h("p", null, "Receivers: ", h("strong", { class: "mono", id: "rt-receivers" }, r.receivers.join(", "))),
        table(["Route", "Receiver", "Group labels"], r.routes.map((x) => h("tr", null,
          h("td", null, x.matchers.join(", ") || "root"), h("td", { class: "mono" }, x.receiver), h("td", { class: "mono" }, JSON.stringify(x.groupLabels))))));
      drawTree(new Map(r.routes.map((x) => [x.path, x])));
    } catch (e) {
      mount(result, errorBox(e));
    }
  }

  (async () => {
    try {
      const [s, routes] = await Promise.all([api("api/v2/status"), api("api/ampp/v1/routes")]);
      root = routes.route;
      const peers = s.cluster.peers || [];
      mount(info,
        h("div", { class: "cards" },
          h("section", { class: "card", "aria-labelledby": "h-version" }, h("h2", { id: "h-version" }, "Version"),
            h("dl", { class: "kv" },
              h("dt", null, "Alertmanager API"), h("dd", null, s.versionInfo.version),
              h("dt", null, "Build"), h("dd", { class: "mono" }, s.versionInfo.revision),
              h("dt", null, "Up since"), h("dd", null, timeEl(s.uptime), " (", timeEl(s.uptime, true), ")"))),
          h("section", { class: "card", "aria-labelledby": "h-cluster" }, h("h2", { id: "h-cluster" }, "Cluster"),
            h("dl", { class: "kv" },
              h("dt", null, "Status"), h("dd", null, badge(s.cluster.status === "ready" ? "ok" : "expired", s.cluster.status)),
              s.cluster.name ? [h("dt", null, "This instance"), h("dd", { class: "mono" }, s.cluster.name)] : null,
              h("dt", null, "Peers"), h("dd", null, peers.length ? peers.map((p) => h("div", { class: "mono" }, `${p.name} ${p.address}`)) : "none")))),
        h("details", { class: "card" }, h("summary", null, "Configuration (secrets hidden)"), h("pre", null, s.config.original)));
      drawTree(null);
      if (labels.value.trim()) test();
    } catch (e) {
      mount(info, errorBox(e));
    }
  })();
  return null;
}
