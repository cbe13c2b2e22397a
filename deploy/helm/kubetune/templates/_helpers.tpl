{{/* Chart name, overridable. */}}
{{- define "kubetune.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects. A release already named after the chart is not doubled
("kubetune", not "kubetune-kubetune").
*/}}
{{- define "kubetune.fullname" -}}
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

{{- define "kubetune.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubetune.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kubetune.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubetune.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kubetune.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kubetune.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kubetune.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
"true" when the operator must elect a leader: two replicas reconciling at once would start
duplicate trials.
*/}}
{{- define "kubetune.leaderElect" -}}
{{- $enabled := .Values.leaderElection.enabled }}
{{- if and (kindIs "bool" $enabled) (not $enabled) (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "leaderElection.enabled=false with replicaCount=%v: replicas without leader election would all start trials; leave leaderElection.enabled unset (or true), or set replicaCount to 1" .Values.replicaCount) }}
{{- end }}
{{- if or $enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{- define "kubetune.leaseName" -}}
{{- default (include "kubetune.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
What the operator does through the API, and nothing more (docs/installation.md lists the same
rules). Shared by the ClusterRole and the per-namespace Roles. No Secrets: trial credentials are
the trial pods' business, mounted by the kubelet.
*/}}
{{- define "kubetune.operatorRules" -}}
- apiGroups: [kubetune.io]
  resources: [studies]
  verbs: [get, list, watch]
- apiGroups: [kubetune.io]
  resources: [studies/status]
  verbs: [patch]
- apiGroups: [kubetune.io]
  resources: [trials]
  verbs: [get, list, watch, create]
- apiGroups: [kubetune.io]
  resources: [trials/status]
  verbs: [patch]
{{- range .Values.trialKinds }}
# Trials as {{ .apiVersion }} {{ .kind }} (values trialKinds).
- apiGroups: [{{ include "kubetune.apiGroup" .apiVersion | quote }}]
  resources: [{{ include "kubetune.trialResource" . }}]
  verbs: [get, list, watch, create, delete]
{{- end }}
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
# Why a Kueue-queued trial waits (its Workload's conditions); without Kueue the list just fails.
- apiGroups: [kueue.x-k8s.io]
  resources: [workloads]
  verbs: [list]
{{- end }}

{{/* The API group of an apiVersion: "" for the core group (v1). */}}
{{- define "kubetune.apiGroup" -}}
{{- if contains "/" . }}{{ index (splitList "/" .) 0 }}{{ end }}
{{- end }}

{{/* A trial kind's resource: given, or the lowercase kind plus "s" (as the operator assumes). */}}
{{- define "kubetune.trialResource" -}}
{{- default (printf "%ss" (lower .kind)) .resource }}
{{- end }}

{{/* --trial-kinds: apiVersion/Kind=resource for each of values trialKinds. */}}
{{- define "kubetune.trialKindsArg" -}}
{{- $kinds := list }}
{{- range .Values.trialKinds }}
{{- $kinds = append $kinds (printf "%s/%s=%s" .apiVersion .kind (include "kubetune.trialResource" .)) }}
{{- end }}
{{- printf "--trial-kinds=%s" (join "," $kinds) | quote }}
{{- end }}
