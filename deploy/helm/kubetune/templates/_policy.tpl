{{/*
Operator flags for the trial pod policy (docs/security.md). The admission policy reads the same
values, so the apiserver and the operator enforce one policy.
*/}}
{{- define "kubetune.trialPodPolicyArgs" -}}
- --trial-pod-policy={{ .Values.trialPodPolicy.profile }}
- {{ printf "--trial-service-accounts=%s" (join "," .Values.trialPodPolicy.allowedServiceAccounts) | quote }}
{{- end }}

{{/*
Namespaces the admission policy applies to: admissionPolicy.namespaceSelector when set, else
the watched namespaces, else all.
*/}}
{{- define "kubetune.admissionNamespaceSelector" -}}
{{- if .Values.admissionPolicy.namespaceSelector }}
{{- toYaml .Values.admissionPolicy.namespaceSelector }}
{{- else if .Values.watchNamespaces -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: In
    values: {{ toJson .Values.watchNamespaces }}
{{- else -}}
{}
{{- end }}
{{- end }}

{{/*
CEL for the admission policy: the API group and resource of the Study's trial kind when it is one
of values trialKinds (one branch per kind), else []. The values schema limits apiVersion, kind and
resource to characters that cannot end a CEL string.
*/}}
{{- define "kubetune.trialKindResourceCel" -}}
{{- range .Values.trialKinds -}}
variables.trialApiVersion == '{{ .apiVersion }}' && variables.trialKind == '{{ .kind }}' ? ['{{ include "kubetune.apiGroup" .apiVersion }}', '{{ include "kubetune.trialResource" . }}'] : {{ end -}}
[]
{{- end }}

{{/* values trialKinds as the operator names them in messages: "batch/v1 Job, ...". */}}
{{- define "kubetune.trialKindNames" -}}
{{- $names := list }}
{{- range .Values.trialKinds }}
{{- $names = append $names (printf "%s %s" .apiVersion .kind) }}
{{- end }}
{{- join ", " $names }}
{{- end }}
