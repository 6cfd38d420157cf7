"""The cluster's metrics: Alertmanager's names where the idea carries over, ours beside them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class ClusterMetrics:
    def __init__(self, r: CollectorRegistry) -> None:
        self.members = Gauge(
            "alertmanager_cluster_members", "Number of cluster members (live replicas).", registry=r
        )
        self.failed_peers = Gauge(
            "alertmanager_cluster_failed_peers",
            "Number of replicas whose heartbeat stopped (kept until --cluster.reconnect-timeout).",
            registry=r,
        )
        self.health_score = Gauge(
            "alertmanager_cluster_health_score",
            "Health score of the cluster. Lower values are better and zero means 'totally healthy': "
            "here, the heartbeats in a row that failed.",
            registry=r,
        )
        self.position = Gauge(
            "alertmanager_peer_position", "Position the Alertmanager instance believes it's in.", registry=r
        )
        self.peer_info = Gauge(
            "alertmanager_cluster_peer_info",
            "A metric with a constant '1' value labeled by peer name.",
            ["peer"],
            registry=r,
        )
        self.joined = Counter(
            "alertmanager_cluster_peers_joined", "A counter of peers that have joined.", registry=r
        )
        self.left = Counter(
            "alertmanager_cluster_peers_left", "A counter of peers that have left.", registry=r
        )
        self.reconnections = Counter(
            "alertmanager_cluster_reconnections",
            "A counter of the connections to the database re-established.",
            registry=r,
        )
        self.reconnections_failed = Counter(
            "alertmanager_cluster_reconnections_failed",
            "A counter of failed attempts to re-establish the connection to the database.",
            registry=r,
        )
        self.connected = Gauge(
            "ampp_cluster_storage_connected",
            "1 while this replica's heartbeats reach PostgreSQL; 0: cut off, it notifies nothing.",
            registry=r,
        )
        self.owned_groups = Gauge(
            "ampp_cluster_owned_groups", "Aggregation groups this replica flushes.", registry=r
        )
        self.takeovers = Counter(
            "ampp_cluster_groups_taken_over",
            "Aggregation groups this replica took from another one.",
            registry=r,
        )
        self.heartbeat_seconds = Gauge(
            "ampp_cluster_heartbeat_age_seconds",
            "Seconds since this replica's last successful heartbeat.",
            registry=r,
        )
        self.replicated = Counter(
            "ampp_cluster_replicated",
            "Changes taken from other replicas, by kind (alert, silence, config).",
            ["kind"],
            registry=r,
        )
