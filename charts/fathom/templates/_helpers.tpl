{{/*
Names and labels shared by the templates. Every object mirrors what `fathom gen checks` and
`fathom gen sessions` print (src/backends/kubernetes/{checks,sessions}/manifests.ts); a test
renders this chart and compares each object with the generators' output.
*/}}

{{- define "fathom.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) -}}
{{- end -}}

{{/* Helm's own labels, on top-level metadata only: pod templates and selectors stay as `gen` has them. */}}
{{- define "fathom.helmLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{- define "fathom.checksNamespace" -}}
{{- .Values.namespace | default .Values.checks.namespace -}}
{{- end -}}

{{- define "fathom.sessionsNamespace" -}}
{{- .Values.namespace | default .Values.sessions.namespace -}}
{{- end -}}

{{/* checksLabels(role): pass a role name (checks, checks-dispatcher, checks-agent). */}}
{{- define "fathom.checksLabels" -}}
component: fathom
app.kubernetes.io/part-of: fathom-checks
fathom-component: {{ . }}
{{- end -}}

{{- define "fathom.checksSelector" -}}
component: fathom
fathom-component: {{ . }}
{{- end -}}

{{- define "fathom.sessionsLabels" -}}
component: fathom
app.kubernetes.io/part-of: fathom-sessions
fathom-component: session-controller
{{- end -}}

{{/* The restricted Pod Security profile of fathom's long-running pods (pod-security.ts). */}}
{{- define "fathom.podSecurity" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "fathom.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* spreadOverNodes(selector): pass the selector as YAML text. */}}
{{- define "fathom.spreadOverNodes" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- . | nindent 12 }}
{{- end -}}

{{- define "fathom.fieldEnv" -}}
- name: {{ index . 0 }}
  valueFrom:
    fieldRef:
      fieldPath: {{ index . 1 }}
{{- end -}}
