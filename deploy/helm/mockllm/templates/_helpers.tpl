{{/*
The chart's name, cut to 63 characters (a DNS label).
*/}}
{{- define "mockllm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects: RELEASE-mockllm, or RELEASE alone when it already
holds the chart's name.
*/}}
{{- define "mockllm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mockllm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mockllm.labels" -}}
helm.sh/chart: {{ include "mockllm.chart" . }}
{{ include "mockllm.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mockllm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mockllm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mockllm.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The config file's text: config given as a string, or as a mapping (then written as YAML).
Empty when there is none (the image's embedded default config answers).
*/}}
{{- define "mockllm.configText" -}}
{{- if kindIs "string" .Values.config }}
{{- .Values.config }}
{{- else if .Values.config }}
{{- toYaml .Values.config }}
{{- end }}
{{- end }}

{{/*
The Secret holding the admin token: adminToken.existingSecret, or the one the chart makes of
adminToken.value; empty when there is no token.
*/}}
{{- define "mockllm.adminTokenSecret" -}}
{{- if .Values.adminToken.existingSecret }}
{{- .Values.adminToken.existingSecret }}
{{- else if .Values.adminToken.value }}
{{- printf "%s-admin-token" (include "mockllm.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "mockllm.adminTokenKey" -}}
{{- if .Values.adminToken.existingSecret }}
{{- .Values.adminToken.existingSecretKey }}
{{- else }}
{{- "token" }}
{{- end }}
{{- end }}

{{/*
"true" when the pods share their state through Redis (state.url or state.existingSecret).
*/}}
{{- define "mockllm.sharedState" -}}
{{- if or .Values.state.existingSecret (and .Values.state.url (ne (toString .Values.state.url) "memory")) }}
{{- "true" }}
{{- end }}
{{- end }}
