{{/*
Chart name, truncated to 63 characters (the Kubernetes label value limit).
*/}}
{{- define "flask-app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name used for every object: fullnameOverride, else "<release>-<chart name>", else the release
name alone when it already contains the chart name. Truncated to 63 characters (DNS label limit).
*/}}
{{- define "flask-app.fullname" -}}
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

{{/*
Value of the helm.sh/chart label: "<name>-<version>", "+" replaced because labels forbid it.
*/}}
{{- define "flask-app.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Version the app reports (APP_VERSION) and the app.kubernetes.io/version label:
config.APP_VERSION, else image.tag, else the chart's appVersion.
*/}}
{{- define "flask-app.version" -}}
{{- .Values.config.APP_VERSION | default .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
Selector labels: the stable subset of the labels that Services, the Deployment's selector, topology
spread constraints, the PDB and the PodMonitor match on. They must never change between
releases (a Deployment's selector is immutable), so no version here.
*/}}
{{- define "flask-app.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flask-app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/)
put on every object and on the pods.
*/}}
{{- define "flask-app.labels" -}}
{{ include "flask-app.selectorLabels" . }}
app.kubernetes.io/version: {{ include "flask-app.version" . | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: web
app.kubernetes.io/part-of: flask-eks
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "flask-app.chart" . }}
{{- end }}

{{/*
Name of the ServiceAccount the pods run as.
*/}}
{{- define "flask-app.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "flask-app.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of the Secret the pods read: secrets.existingSecret, else the one this chart renders.
*/}}
{{- define "flask-app.secretName" -}}
{{- default (include "flask-app.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
Image reference: "repository@sha256:..." when image.digest is set (immutable), else
"repository:tag" with tag defaulting to the chart's appVersion. Fails when repository is empty.
*/}}
{{- define "flask-app.image" -}}
{{- $repo := required "image.repository is required (e.g. <account>.dkr.ecr.<region>.amazonaws.com/flask-app)" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Smallest number of pods the release keeps running: autoscaling.minReplicas with an HPA, else
replicaCount. Decides whether a PodDisruptionBudget makes sense.
*/}}
{{- define "flask-app.minPods" -}}
{{- if or .Values.autoscaling.enabled .Values.autoscaling.external }}
{{- .Values.autoscaling.minReplicas | int }}
{{- else }}
{{- .Values.replicaCount | int }}
{{- end }}
{{- end }}

{{/*
Render-time checks that the schema cannot express (they compare several values). Included by
deployment.yaml, so they run for every render. `helm lint` runs in lint mode, where `fail` and
`required` only log, so the chart's bare defaults still lint clean.
*/}}
{{- define "flask-app.validate" -}}
{{- $s := .Values.shutdown }}
{{- if le (int $s.terminationGracePeriodSeconds) (add $s.preStopSleepSeconds $s.gunicornGracefulTimeoutSeconds | int) }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + gunicornGracefulTimeoutSeconds (%d)" (int $s.terminationGracePeriodSeconds) (add $s.preStopSleepSeconds $s.gunicornGracefulTimeoutSeconds | int)) }}
{{- end }}
{{- if and .Values.ingress.https (not .Values.ingress.host) }}
{{- fail "ingress.https needs ingress.host: a certificate names a host, never the ALB's generated name" }}
{{- end }}
{{- if and .Values.autoscaling.enabled .Values.autoscaling.external }}
{{- fail "autoscaling.enabled and autoscaling.external exclude each other: exactly one HPA may target the Deployment" }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
{{- if gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas) }}
{{- fail (printf "autoscaling.minReplicas (%d) must not exceed autoscaling.maxReplicas (%d)" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- end }}
{{- if not .Values.resources.requests.cpu }}
{{- fail "autoscaling on CPU utilisation needs resources.requests.cpu" }}
{{- end }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (eq (toString .Values.podDisruptionBudget.minAvailable) "") (eq (toString .Values.podDisruptionBudget.maxUnavailable) "") }}
{{- fail "podDisruptionBudget needs minAvailable or maxUnavailable (or enabled: false)" }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- if or (not .Values.secrets.SECRET_KEY) (not .Values.secrets.DB_PASSWORD) }}
{{- fail "set secrets.SECRET_KEY and secrets.DB_PASSWORD, or secrets.existingSecret: the app is never ready without them" }}
{{- end }}
{{- end }}
{{- if not .Values.config.API_BASE_URL }}
{{- fail "config.API_BASE_URL is required: the app is never ready without it" }}
{{- end }}
{{- end }}

{{/*
An int-or-string value as Kubernetes expects it: "50%" stays a quoted percentage, 2 and "2" become
the integer 2 (the API rejects numeric strings).
*/}}
{{- define "flask-app.intOrPercent" -}}
{{- if hasSuffix "%" (toString .) }}
{{- toString . | quote }}
{{- else }}
{{- int . }}
{{- end }}
{{- end }}
