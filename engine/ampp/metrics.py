"""Prometheus metrics under Alertmanager's names, in a registry per engine."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

# Alertmanager exposes no *_created series; neither do we.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.alerts_received = Counter(
            "alertmanager_alerts_received", "The total number of received alerts.", ["status"], registry=r
        )
        self.alerts_invalid = Counter(
            "alertmanager_alerts_invalid",
            "The total number of received alerts that were invalid.",
            registry=r,
        )
        self.alerts = Gauge("alertmanager_alerts", "How many alerts by state.", ["state"], registry=r)
        self.notifications = Counter(
            "alertmanager_notifications",
            "The total number of attempted notifications.",
            ["integration"],
            registry=r,
        )
        self.notifications_failed = Counter(
            "alertmanager_notifications_failed",
            "The total number of failed notifications.",
            ["integration"],
            registry=r,
        )
        self.notification_latency = Histogram(
            "alertmanager_notification_latency_seconds",
            "The latency of notifications in seconds.",
            ["integration"],
            buckets=(1, 5, 10, 15, 20),
            registry=r,
        )
        self.silences = Gauge("alertmanager_silences", "How many silences by state.", ["state"], registry=r)
        self.nflog_queries = Counter(
            "alertmanager_nflog_queries", "Number of notification log queries were received.", registry=r
        )
        self.nflog_gc_duration = Histogram(
            "alertmanager_nflog_gc_duration_seconds",
            "Duration of the last notification log garbage collection cycle.",
            registry=r,
        )
        self.nflog_entries = Gauge(
            "alertmanager_nflog_entries", "Number of notification log entries held.", registry=r
        )
        self.config_last_reload_successful = Gauge(
            "alertmanager_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful.",
            registry=r,
        )
        self.config_last_reload_success_timestamp = Gauge(
            "alertmanager_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            registry=r,
        )
        self.config_hash = Gauge(
            "alertmanager_config_hash", "Hash of the currently loaded alertmanager configuration.", registry=r
        )
        self.dispatcher_aggregation_groups = Gauge(
            "alertmanager_dispatcher_aggregation_groups", "Number of active aggregation groups", registry=r
        )
        self.build_info = Gauge(
            "alertmanager_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch, and goversion "
            "from which alertmanager was built.",
            ["version", "revision", "branch", "goversion"],
            registry=r,
        )
        self.http_request_duration = Histogram(
            "alertmanager_http_request_duration_seconds",
            "Histogram of latencies for HTTP requests.",
            ["handler", "method"],
            buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 20, 60),
            registry=r,
        )
        self.http_response_size = Histogram(
            "alertmanager_http_response_size_bytes",
            "Histogram of response size for HTTP requests.",
            ["handler", "method"],
            buckets=tuple(100.0 * 10**i for i in range(7)),
            registry=r,
        )
        self.cluster_enabled = Gauge(
            "alertmanager_cluster_enabled", "Indicates whether the clustering is enabled or not.", registry=r
        )
        self.storage_up = Gauge("ampp_storage_up", "Whether the last write to storage succeeded.", registry=r)
        self.storage_buffered = Gauge(
            "ampp_storage_writes_buffered", "Alert changes waiting to be written to storage.", registry=r
        )
        self.webhook_requests = Counter(
            "ampp_webhook_requests",
            "Requests to /webhook by detected format (or source) and answer code.",
            ["format", "code"],
            registry=r,
        )
        # -- the durable delivery queue (ampp.notify.queue) --------------------------------
        self.delivery_queue_depth = Gauge(
            "ampp_delivery_queue_depth",
            "Notifications in the delivery queue by state (pending, inflight, dead), all replicas.",
            ["state"],
            registry=r,
        )
        self.delivery_inflight = Gauge(
            "ampp_delivery_inflight", "Notifications this instance is sending right now.", registry=r
        )
        self.delivery_workers = Gauge(
            "ampp_delivery_workers", "Notifications this instance may send at once.", registry=r
        )
        self.delivery_enqueued = Counter(
            "ampp_delivery_enqueued",
            "Notifications queued, by integration and outcome (queued, refreshed, busy, deduplicated, "
            "recorded).",
            ["integration", "outcome"],
            registry=r,
        )
        self.delivery_superseded = Counter(
            "ampp_delivery_superseded",
            "Queued notifications replaced by a newer flush of the same group before being sent.",
            ["integration"],
            registry=r,
        )
        self.delivery_retries = Counter(
            "ampp_delivery_retries",
            "Failed attempts scheduled for another try.",
            ["integration"],
            registry=r,
        )
        self.delivery_dead_letters = Counter(
            "ampp_delivery_dead_letters",
            "Notifications given up on, by integration and reason (permanent, budget, config, invalid).",
            ["integration", "reason"],
            registry=r,
        )
        self.delivery_redriven = Counter(
            "ampp_delivery_redriven", "Dead letters sent back to the queue through the API.", registry=r
        )
        self.delivery_seconds = Histogram(
            "ampp_delivery_duration_seconds",
            "From queueing a notification to its successful delivery, retries included.",
            ["integration"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
            registry=r,
        )
        for state in ("active", "suppressed", "unprocessed"):
            self.alerts.labels(state)
        for state in ("active", "pending", "expired"):
            self.silences.labels(state)
        self.received_firing = self.alerts_received.labels("firing")
        self.received_resolved = self.alerts_received.labels("resolved")
        """Counted on every POST: the children, without labels()'s lookup each time."""
