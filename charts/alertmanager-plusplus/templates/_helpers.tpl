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

{{/* image reference from (dict "image" .Values.x.image "default" "tag"). A digest wins. */}}
{{- define "ampp.imageRef" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (toString (default .default .image.tag)) }}
{{- end }}
{{- end }}

{{- define "ampp.image" -}}
{{- include "ampp.imageRef" (dict "image" .Values.image "default" .Chart.AppVersion) }}
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

{{/* A password that survives upgrades: the one already in the Secret, else a new random one.
(dict "ctx" $ "name" secretName "key" key) -> base64 value. `helm template` and dry runs have
no cluster to look in, so they always show a new one. */}}
{{- define "ampp.keptPassword" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name }}
{{- $value := dig "data" .key "" ($existing | default dict) }}
{{- if $value }}
{{- $value }}
{{- else }}
{{- randAlphaNum 32 | b64enc }}
{{- end }}
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

{{/* A generated API key, kept across upgrades: (dict "ctx" $ "name" secret "key" name). */}}
{{- define "ampp.keptApiKey" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name }}
{{- $value := dig "data" .key "" ($existing | default dict) }}
{{- if $value }}
{{- $value }}
{{- else }}
{{- printf "ampp_%s" (randAlphaNum 43) | b64enc }}
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
