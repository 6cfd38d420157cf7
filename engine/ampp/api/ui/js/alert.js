// One alert: labels, annotations, state and why, the enrichment when there is one, and its
// timeline from /history/{fingerprint}: fired, resolved, silenced, inhibited, notified, failed.

import { h, clear, mount, badge, timeEl, errorBox, annotationValue, labelChips, table, duration } from "./dom.js";
import { api } from "./api.js";
import { store, loadGroups, alertState } from "./store.js";
import { onChange } from "./live.js";
import { can } from "./session.js";

const KIND_TEXT = {
  "alert.firing": "Fired",
  "alert.resolved": "Resolved",
  "alert.silenced": "Silenced",
  "alert.unsilenced": "No longer silenced",
  "alert.inhibited": "Inhibited",
  "alert.uninhibited": "No longer inhibited",
  "alert.enriched": "Enriched",
  "alert.not_enriched": "Notified without enrichment",
  "notify.sent": "Notification sent",
  "notify.failed": "Notification failed",
  "silence.created": "Silence created",
  "silence.updated": "Silence updated",
  "silence.expired": "Silence expired",
};

export function render(main, { args }) {
  const fp = args[0] || "";
  const head = h("div");
  const enrichment = h("div");
  const timeline = h("div");
  mount(main, h("p", null, h("a", { href: "#/alerts" }, "← Alerts")), head, enrichment, timeline);

  async function refresh() {
    let alert = null;
    try {
      await loadGroups();
      alert = store.byFingerprint.get(fp) || null;
    } catch (e) {
      mount(head, errorBox(e));
    }
    let history = null;
    let enriched = null;
    try {
      // Asking the list first: a timeline that does not exist yet would be a 404 in the console.
      const known = await api("history", { params: { fingerprint: fp, limit: 1 } });
      if (known.total > 0) history = await api(`history/${encodeURIComponent(fp)}`);
      // The timeline says whether the alert was ever enriched (asking blindly would be a 404 in
      // the console); the enrichment API has the latest one, the event its copy (the API's
      // memory does not outlive a restart).
      const last = history?.events.findLast((e) => e.kind === "alert.enriched");
      if (last) {
        enriched = await api(`api/ampp/v1/enrichment/${encodeURIComponent(fp)}`).then((r) => r.enrichment,
          (e) => { if (e.status === 404 && last.details) return last.details; throw e; });
      }
    } catch (e) {
      mount(timeline, h("h2", null, "Timeline"), errorBox(e));
    }
    drawHead(alert, history);
    drawEnrichment(enriched);
    if (history) drawTimeline(history);
    else if (!timeline.firstChild || timeline.querySelector(".error") === null) mount(timeline, h("h2", null, "Timeline"), h("p", { class: "muted" }, "No history recorded for this alert yet."));
  }

  function drawHead(alert, history) {
    const labels = alert?.labels || history?.labels;
    if (!labels) {
      mount(head, h("h1", null, "Alert ", h("span", { class: "mono" }, fp)), h("p", null, "This alert is not active and has no history."));
      return;
    }
    const occurrence = history?.occurrences?.[history.occurrences.length - 1];
    const annotations = alert?.annotations || occurrence?.annotations || {};
    const st = alert ? alertState(alert) : occurrence?.status || "resolved";
    mount(head,
      h("h1", null, labels.alertname || "Alert", " ", badge(st === "unprocessed" ? "active" : st)),
      h("div", { class: "actions" },
        alert && can("silence:write") && st !== "silenced" ? h("a", { href: `#/silences/new?fp=${fp}`, class: "button" }, "Silence") : null,
        alert?.generatorURL ? h("a", { href: alert.generatorURL, class: "button", rel: "noopener noreferrer" }, "Source") : null,
        h("a", { href: `#/history?fingerprint=${fp}`, class: "button" }, "All occurrences")),
      h("div", { class: "cards" },
        h("section", { class: "card", "aria-labelledby": "h-labels" }, h("h2", { id: "h-labels" }, "Labels"), labelChips(labels)),
        h("section", { class: "card", "aria-labelledby": "h-ann" }, h("h2", { id: "h-ann" }, "Annotations"),
          Object.keys(annotations).length
            ? h("dl", { class: "kv" }, Object.entries(annotations).flatMap(([k, v]) => [h("dt", null, k), h("dd", null, annotationValue(v))]))
            : h("p", { class: "muted" }, "None.")),
        h("section", { class: "card", "aria-labelledby": "h-state" }, h("h2", { id: "h-state" }, "State"),
          h("dl", { class: "kv" },
            h("dt", null, "Fingerprint"), h("dd", { class: "mono" }, fp),
            h("dt", null, "Started"), h("dd", null, timeEl(alert?.startsAt || occurrence?.startsAt)),
            alert ? [h("dt", null, "Ends"), h("dd", null, timeEl(alert.endsAt))] : [h("dt", null, "Ended"), h("dd", null, timeEl(occurrence?.endsAt))],
            h("dt", null, "Receivers"), h("dd", null, (alert?.receivers.map((r) => r.name) || occurrence?.receivers || []).join(", ") || "—"),
            alert?.status.silencedBy.length ? [h("dt", null, "Silenced by"), h("dd", null, alert.status.silencedBy.map((id) => h("a", { href: `#/silences/${id}`, class: "mono" }, id)))] : null,
            alert?.status.inhibitedBy.length ? [h("dt", null, "Inhibited by"), h("dd", null, alert.status.inhibitedBy.map((id) => h("a", { href: `#/alert/${id}`, class: "mono" }, id)))] : null))));
  }

  // The enrichment (ampp.enrich): what the model made of the alert, and who answered: the
  // provider's model, or the rule-based fallback and why.
  function drawEnrichment(e) {
    if (!e || typeof e !== "object") {
      clear(enrichment);
      return;
    }
    const confidence = typeof e.confidence === "number" ? `${Math.round(e.confidence * 100)}%` : null;
    const by = e.source === "fallback" ? `the rule-based fallback${e.error ? ` (${e.error})` : ""}` : [e.provider, e.model].filter(Boolean).join(" / ");
    mount(enrichment, h("section", { class: "card", "aria-labelledby": "h-enrich" },
      h("h2", { id: "h-enrich" }, "Enrichment ", e.severity ? badge(`severity-${e.severity}`, e.severity) : null),
      h("dl", { class: "kv" },
        e.summary ? [h("dt", null, "Summary"), h("dd", null, e.summary)] : null,
        e.suggested_action ? [h("dt", null, "Suggested action"), h("dd", null, e.suggested_action)] : null,
        confidence ? [h("dt", null, "Confidence"), h("dd", null, confidence)] : null,
        by ? [h("dt", null, "By"), h("dd", null, by, e.cached ? " (from the cache)" : "")] : null)));
  }

  function drawTimeline(history) {
    const events = history.events || [];
    const notes = events.filter((e) => e.kind.startsWith("notify."));
    mount(timeline,
      h("h2", null, "Timeline"),
      history.truncated ? h("p", { class: "muted" }, "Only the latest 1,000 events are shown.") : null,
      h("ol", { class: "timeline" }, events.map((e) => {
        const kind = e.kind.split(".")[1];
        return h("li", { class: kind },
          h("strong", null, KIND_TEXT[e.kind] || e.kind), " ", timeEl(e.at),
          e.receiver ? h("span", null, " · ", e.receiver, e.integration ? `/${e.integration}` : "") : null,
          e.latency_ms !== undefined && e.latency_ms !== null ? h("span", { class: "muted" }, ` · ${Math.round(e.latency_ms)} ms`) : null,
          e.error ? h("div", { class: "muted" }, e.error) : null,
          e.silence_id ? h("div", null, h("a", { href: `#/silences/${e.silence_id}` }, `silence ${e.silence_id.slice(0, 8)}`),
            e.actor ? ` by ${e.actor}` : "", e.comment ? `: “${e.comment}”` : "") : null);
      })),
      h("h2", null, `Notifications (${notes.length})`),
      notes.length
        ? table(["When", "Receiver", "Integration", "Outcome", "Latency", "Error"], notes.slice().reverse().map((e) => h("tr", null,
          h("td", null, timeEl(e.at)), h("td", null, e.receiver || "—"), h("td", null, e.integration || "—"),
          h("td", null, badge(e.outcome || e.kind.split(".")[1])),
          h("td", { class: "num" }, e.latency_ms !== undefined && e.latency_ms !== null ? `${Math.round(e.latency_ms)} ms` : "—"),
          h("td", null, e.error || ""))))
        : h("p", { class: "muted" }, "None sent yet."),
      h("h2", null, `Occurrences (${history.occurrences.length})`),
      table(["Started", "Ended", "Duration", "Status", "Notifications"], history.occurrences.slice().reverse().map((o) => h("tr", null,
        h("td", null, timeEl(o.startsAt)), h("td", null, timeEl(o.endsAt)), h("td", null, duration(o.duration)),
        h("td", null, badge(o.status)), h("td", null, `${o.notifications.sent} sent, ${o.notifications.failed} failed`)))));
  }

  refresh();
  return onChange((changed) => { if (changed.has("alerts") || changed.has("silences")) refresh(); });
}
