{{/* Names ------------------------------------------------------------------------------ */}}

{{- define "ampp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name; kept at 50 characters so suffixes fit in 63. */}}
{{- define "ampp.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Cluster-scoped names (and names in namespaces other than the release's) must not collide
between releases of the same name in two namespaces; 52 characters leave room for a suffix. */}}
{{- define "ampp.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "ampp.fullname" .) | trunc 52 | trimSuffix "-" }}
{{- end }}

{{- define "ampp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ampp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ampp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the base config file (alertmanager.yml). */}}
{{- define "ampp.configSecretName" -}}
{{- default (printf "%s-config" (include "ampp.fullname" .)) .Values.existingConfigSecret }}
{{- end }}

{{/* The operator's leader-election Lease, one per release. */}}
{{- define "ampp.leaseName" -}}
{{- include "ampp.fullname" . }}
{{- end }}

{{- define "ampp.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "ampp.fullname" .) }}
{{- end }}

{{- define "ampp.redis.fullname" -}}
{{- printf "%s-redis" (include "ampp.fullname" .) }}
{{- end }}

{{/* Labels ----------------------------------------------------------------------------- */}}

{{- define "ampp.labels" -}}
helm.sh/chart: {{ include "ampp.chart" . }}
{{ include "ampp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "ampp.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The engine's selector labels (component "engine"). */}}
{{- define "ampp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ampp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels and selector labels of a component: include with (dict "ctx" $ "component" "postgresql"). */}}
{{- define "ampp.componentLabels" -}}
{{ include "ampp.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "ampp.componentSelectorLabels" -}}
{{ include "ampp.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Images ----------------------------------------------------------------------------- */}}

{{/* An image reference from (dict "ctx" $ "image" .Values.x.image): a digest wins over the tag.
global.imageRegistry, when set, replaces the registry of every image (the path stays: Docker
Hub's official images are under library/), so a mirror is one value. */}}
{{- define "ampp.imageRef" -}}
{{- $repo := .image.repository }}
{{- with .ctx.Values.global.imageRegistry }}
{{- $parts := splitList "/" $repo }}
{{- $first := first $parts }}
{{- if and (gt (len $parts) 1) (or (contains "." $first) (contains ":" $first) (eq $first "localhost")) }}
{{- $repo = rest $parts | join "/" }}
{{- else if eq (len $parts) 1 }}
{{- $repo = printf "library/%s" $repo }}
{{- end }}
{{- $repo = printf "%s/%s" (trimSuffix "/" .) $repo }}
{{- end }}
{{- if .image.digest }}
{{- printf "%s@%s" $repo .image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (toString (required (printf "an image tag for %s (images are pinned)" .image.repository) .image.tag)) }}
{{- end }}
{{- end }}

{{- define "ampp.image" -}}
{{- $image := .Values.image }}
{{- if not $image.tag }}
{{- $image = merge (dict "tag" .Chart.AppVersion) $image }}
{{- end }}
{{- include "ampp.imageRef" (dict "ctx" . "image" $image) }}
{{- end }}

{{/* Web paths -------------------------------------------------------------------------- */}}

{{/* The route prefix with a trailing slash, as Alertmanager derives it: --web.route-prefix,
else the path of --web.external-url, else "/". */}}
{{- define "ampp.routePrefix" -}}
{{- $prefix := .Values.web.routePrefix }}
{{- if and (not $prefix) .Values.web.externalUrl }}
{{- $prefix = (urlParse .Values.web.externalUrl).path }}
{{- end }}
{{- $prefix = trimSuffix "/" (default "" $prefix) }}
{{- if and $prefix (not (hasPrefix "/" $prefix)) }}
{{- $prefix = printf "/%s" $prefix }}
{{- end }}
{{- printf "%s/" $prefix }}
{{- end }}

{{/* Storage ---------------------------------------------------------------------------- */}}

{{/* "bundled", "external" or "" (SQLite under /data). */}}
{{- define "ampp.postgresql.mode" -}}
{{- if .Values.postgresql.enabled }}bundled
{{- else if or .Values.externalPostgresql.url .Values.externalPostgresql.existingSecret }}external
{{- end }}
{{- end }}

{{- define "ampp.redis.mode" -}}
{{- if .Values.redis.enabled }}bundled
{{- else if or .Values.externalRedis.url .Values.externalRedis.existingSecret }}external
{{- end }}
{{- end }}

{{- define "ampp.postgresql.secretName" -}}
{{- default (include "ampp.postgresql.fullname" .) .Values.postgresql.auth.existingSecret }}
{{- end }}

{{- define "ampp.redis.secretName" -}}
{{- default (include "ampp.redis.fullname" .) .Values.redis.auth.existingSecret }}
{{- end }}

{{/* The Secret with the external URLs given inline in values. */}}
{{- define "ampp.externalSecretName" -}}
{{- printf "%s-external" (include "ampp.fullname" .) }}
{{- end }}

{{/* The Secrets with generated values that the secret-init hook Job makes when they do not
exist: [{"name", "keys", "flag"}] (flag: its `ampp init-secrets` option, "secret" for
passwords, "api-keys" for the engine's API keys). The chart renders no random value, so that
`helm template` (what Argo CD runs) gives the same output every time. */}}
{{- define "ampp.generatedSecrets" -}}
{{- $out := list }}
{{- if and .Values.postgresql.enabled (not .Values.postgresql.auth.existingSecret) }}
{{- $out = append $out (dict "name" (include "ampp.postgresql.fullname" .) "keys" (list .Values.postgresql.auth.existingSecretKey) "flag" "secret") }}
{{- end }}
{{- if and .Values.redis.enabled (not .Values.redis.auth.existingSecret) }}
{{- $out = append $out (dict "name" (include "ampp.redis.fullname" .) "keys" (list .Values.redis.auth.existingSecretKey) "flag" "secret") }}
{{- end }}
{{- if .Values.auth.enabled }}
{{- $keys := list }}
{{- range .Values.auth.apiKeys }}{{- if not .existingSecret }}{{- $keys = append $keys .name }}{{- end }}{{- end }}
{{- if $keys }}
{{- $out = append $out (dict "name" (include "ampp.apiKeysSecretName" .) "keys" $keys "flag" "api-keys") }}
{{- end }}
{{- end }}
{{- $out | toJson }}
{{- end }}

{{/* Checks that the schema cannot express ------------------------------------------------ */}}

{{- define "ampp.validate" -}}
{{- if and .Values.postgresql.enabled (or .Values.externalPostgresql.url .Values.externalPostgresql.existingSecret) }}
{{- fail "postgresql.enabled and externalPostgresql are exclusive: set postgresql.enabled=false to use an external PostgreSQL" }}
{{- end }}
{{- if and .Values.externalPostgresql.url .Values.externalPostgresql.existingSecret }}
{{- fail "externalPostgresql: set either url or existingSecret, not both" }}
{{- end }}
{{- if and .Values.redis.enabled (or .Values.externalRedis.url .Values.externalRedis.existingSecret) }}
{{- fail "redis.enabled and externalRedis are exclusive: set redis.enabled=false to use an external Redis" }}
{{- end }}
{{- if and .Values.externalRedis.url .Values.externalRedis.existingSecret }}
{{- fail "externalRedis: set either url or existingSecret, not both" }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "ampp.postgresql.mode" .)) }}
{{- fail "replicaCount > 1 needs PostgreSQL (postgresql.enabled or externalPostgresql): replicas share the notification log there. Without it, use replicaCount: 1 (SQLite under /data)" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set only one of minAvailable and maxUnavailable (set the other to null)" }}
{{- end }}
{{- if and .Values.auth.enabled .Values.serviceMonitor.enabled (not .Values.auth.publicMetrics) }}
{{- $found := false }}
{{- range .Values.auth.apiKeys }}{{- if eq .name $.Values.auth.metricsKey }}{{- $found = true }}{{- end }}{{- end }}
{{- if not $found }}
{{- fail (printf "auth.metricsKey %q names no auth.apiKeys entry: the ServiceMonitor needs one to scrape /metrics" .Values.auth.metricsKey) }}
{{- end }}
{{- end }}
{{- if and .Values.operator.enabled .Values.rbac.create (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) }}
{{- fail "rbac.create with serviceAccount.create=false needs serviceAccount.name: the chart will not grant the operator's rights to the namespace's default ServiceAccount" }}
{{- end }}
{{- end }}

{{/* The namespaces the operator watches: "" for all, else a list. */}}
{{- define "ampp.watchNamespaces" -}}
{{- if .Values.operator.clusterWide }}
{{- list | toJson }}
{{- else }}
{{- default (list .Release.Namespace) .Values.operator.watchNamespaces | uniq | toJson }}
{{- end }}
{{- end }}

{{/* The namespaces whose Secrets the operator may read: operator.secretNamespaces, else the
release namespace (cluster-wide) or the watched namespaces; ["*"] means all. */}}
{{- define "ampp.secretNamespaces" -}}
{{- if .Values.operator.secretNamespaces }}
{{- .Values.operator.secretNamespaces | uniq | toJson }}
{{- else if .Values.operator.clusterWide }}
{{- list .Release.Namespace | toJson }}
{{- else }}
{{- include "ampp.watchNamespaces" . }}
{{- end }}
{{- end }}

{{/* Admission ------------------------------------------------------------------------- */}}

{{- define "ampp.admission.serviceName" -}}
{{- printf "%s-webhook" (include "ampp.fullname" .) }}
{{- end }}

{{- define "ampp.admission.secretName" -}}
{{- printf "%s-webhook-tls" (include "ampp.fullname" .) }}
{{- end }}

{{/* Cluster-scoped, so named like the ClusterRoles. */}}
{{- define "ampp.admission.configurationName" -}}
{{- include "ampp.clusterName" . }}
{{- end }}

{{/* The names the webhook's certificate is for: the Service's. */}}
{{- define "ampp.admission.dnsNames" -}}
{{- $svc := include "ampp.admission.serviceName" . }}
- {{ printf "%s.%s.svc" $svc .Release.Namespace }}
- {{ printf "%s.%s.svc.cluster.local" $svc .Release.Namespace }}
{{- end }}

{{/* admission.namespaceSelector, else the namespaces the operator watches. */}}
{{- define "ampp.admission.namespaceSelector" -}}
{{- if .Values.admission.namespaceSelector }}
{{- toYaml .Values.admission.namespaceSelector }}
{{- else if .Values.operator.clusterWide }}
{}
{{- else }}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: In
    values: {{ include "ampp.watchNamespaces" . }}
{{- end }}
{{- end }}

{{/* storageClassName from a value: "" leaves the default class, "-" means none. */}}
{{- define "ampp.storageClass" -}}
{{- if eq . "-" }}
storageClassName: ""
{{- else if . }}
storageClassName: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Access control ----------------------------------------------------------------------- */}}

{{- define "ampp.apiKeysSecretName" -}}
{{- printf "%s-api-keys" (include "ampp.fullname" .) }}
{{- end }}

{{/* config.yaml's auth: section from .Values.auth; keys are files mounted from Secrets. */}}
{{- define "ampp.authConfig" -}}
{{- $a := .Values.auth }}
{{- $public := list "/-/healthy" "/-/ready" }}
{{- if $a.publicMetrics }}{{- $public = append $public "/metrics" }}{{- end }}
public: {{ $public | toJson }}
{{- with $a.anonymousRole }}
anonymous_role: {{ . }}
{{- end }}
{{- with $a.apiKeys }}
api_keys:
{{- range . }}
  - {name: {{ .name | quote }}, role: {{ .role }}, key_file: {{ printf "/etc/ampp-keys/%s" .name | quote }}{{ with .sources }}, sources: {{ toJson . }}{{ end }}}
{{- end }}
{{- end }}
{{- with $a.users }}
users:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $a.jwt }}
jwt:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $a.proxy }}
proxy:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The Secret and key holding an apiKeys entry: (dict "ctx" $ "key" .). */}}
{{- define "ampp.apiKeyRef" -}}
{{- if .key.existingSecret -}}
{"name": {{ .key.existingSecret | quote }}, "key": {{ default .key.name .key.existingSecretKey | quote }}}
{{- else -}}
{"name": {{ include "ampp.apiKeysSecretName" .ctx | quote }}, "key": {{ .key.name | quote }}}
{{- end }}
{{- end }}
