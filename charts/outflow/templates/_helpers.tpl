{{- define "outflow.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "outflow.selectorLabels" -}}
app.kubernetes.io/name: outflow-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The `helm test` pod's labels: not the operator's, so no Service, PDB or policy of the operator selects it. */}}
{{- define "outflow.testSelectorLabels" -}}
app.kubernetes.io/name: outflow-chart-test
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The leader-election Lease, in the release namespace. */}}
{{- define "outflow.leaseName" -}}
outflow-operator
{{- end -}}

{{- define "outflow.labels" -}}
{{ include "outflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: outflow
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "outflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "outflow.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* One NetworkPolicy egress rule: the ports of a target, to its peers (any when none). */}}
{{- define "outflow.egressRule" }}
  - ports:
    {{- range .ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
    {{- with .to }}
    to:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end }}

{{- define "outflow.dnsRule" }}
{{- if .dns }}
  - ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end }}
{{- end }}

{{/* True when the monitoring.coreos.com/v1 kind is served and the value is on. */}}
{{- define "outflow.monitoringKind" -}}
{{- if and .enabled (.root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" .kind)) -}}
true
{{- end -}}
{{- end -}}

{{/* Where agent pods live: the watched namespaces, or all. */}}
{{- define "outflow.agentNamespaceSelector" -}}
{{- if .Values.watchNamespaces }}
namespaceSelector:
  matchNames:
    {{- toYaml .Values.watchNamespaces | nindent 4 }}
{{- else }}
namespaceSelector:
  any: true
{{- end }}
{{- end -}}
