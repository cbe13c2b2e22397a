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
