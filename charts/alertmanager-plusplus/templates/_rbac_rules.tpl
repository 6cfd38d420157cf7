{{/* The operator's RBAC rules, split by where they apply: the same rules as
operator/ampp_operator/rbac.yaml (e2e/test_chart.py compares the two), except that get and
update of the Lease are limited to the release's own Lease, and namespaces are only readable
when the operator watches some namespaces rather than all. */}}

{{/* In each watched namespace (or cluster-wide when operator.clusterWide): read the five kinds,
write their status, set the Silence finalizer (the operator never writes spec, so Argo CD and
Flux see no drift), post Events. */}}
{{- define "ampp.rbac.watchedRules" -}}
- apiGroups: [alerting.ampp.io]
  resources: [alertroutes, receivers, inhibitrules, silences, timeintervals]
  verbs: [get, list, watch]
- apiGroups: [alerting.ampp.io]
  resources: [alertroutes/status, receivers/status, inhibitrules/status, silences/status, timeintervals/status]
  verbs: [patch]
- apiGroups: [alerting.ampp.io]
  resources: [silences]
  verbs: [patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}

{{/* In each namespace of operator.secretNamespaces: read, and watch one by one, the Secrets
that Receivers reference (never list them). */}}
{{- define "ampp.rbac.secretRules" -}}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, watch]
{{- end }}

{{/* In the release namespace only: leader election, on its own Lease (create cannot be
limited to a name: the API server only knows the name after the request). */}}
{{- define "ampp.rbac.leaderRules" -}}
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [{{ include "ampp.leaseName" . }}]
  verbs: [get, update]
{{- end }}

{{/* Cluster-wide and read-only: kopf follows CRDs being installed or upgraded and, when it
watches only some namespaces, namespaces coming and going (cluster-wide, it has no need to). */}}
{{- define "ampp.rbac.clusterRules" -}}
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
{{- if not .Values.operator.clusterWide }}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [list, watch]
{{- end }}
{{- end }}
