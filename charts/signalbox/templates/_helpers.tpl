{{- define "signalbox.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object names: the release name alone when it already says signalbox, as most installs do. */}}
{{- define "signalbox.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "signalbox.selectorLabels" -}}
app.kubernetes.io/name: {{ include "signalbox.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{/* Labels of every object but the component, for objects that are not the controller's own. */}}
{{- define "signalbox.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "signalbox.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: signalbox
{{- end -}}

{{- define "signalbox.labels" -}}
{{ include "signalbox.commonLabels" . }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "signalbox.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "signalbox.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "signalbox.leaseName" -}}
{{- default (printf "%s-leader" (include "signalbox.fullname" .)) .Values.controller.leaderElection.id -}}
{{- end -}}

{{- define "signalbox.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
--workers: Node.js counts the node's cores, not the container's CPU share, so the chart derives it
from the CPU limit (else the request), rounded up. Empty when neither is set: then every core is
the container's to use.
*/}}
{{- define "signalbox.workers" -}}
{{- if .Values.controller.workers -}}
{{- .Values.controller.workers -}}
{{- else -}}
{{- $cpu := "" -}}
{{- $limits := .Values.resources.limits | default dict -}}
{{- $requests := .Values.resources.requests | default dict -}}
{{- if $limits.cpu -}}
{{- $cpu = toString $limits.cpu -}}
{{- else if $requests.cpu -}}
{{- $cpu = toString $requests.cpu -}}
{{- end -}}
{{- if ne $cpu "" -}}
{{- $cores := 0.0 -}}
{{- if hasSuffix "m" $cpu -}}
{{- $cores = divf (trimSuffix "m" $cpu | float64) 1000 -}}
{{- else -}}
{{- $cores = float64 $cpu -}}
{{- end -}}
{{- max 1 (ceil $cores | int) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
--script-memory-budget: the sum of RouteScripts' memoryMiB each worker may hold. Derived from the
memory limit: half of it for the isolates (the rest is the process itself, the isolates' overshoot
past their limits, ctx.state and caches), shared by the workers, at least 8 MiB. Empty without a
memory limit or a worker count: then the flag's default (512MiB) applies.
*/}}
{{- define "signalbox.scriptMemoryBudget" -}}
{{- if .Values.controller.scriptMemoryBudget -}}
{{- .Values.controller.scriptMemoryBudget -}}
{{- else -}}
{{- $limits := .Values.resources.limits | default dict -}}
{{- $workers := include "signalbox.workers" . -}}
{{- if and $limits.memory $workers -}}
{{- $memory := toString $limits.memory -}}
{{- $unit := regexFind "[A-Za-z]+$" $memory -}}
{{- $units := dict "" 1.0 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 -}}
{{- if not (hasKey $units $unit) -}}
{{- fail (printf "resources.limits.memory %q: the chart reads the units k, M, G, T, Ki, Mi, Gi and Ti" $memory) -}}
{{- end -}}
{{- $mib := divf (mulf (trimSuffix $unit $memory | float64) (get $units $unit)) 1048576.0 -}}
{{- printf "%dMiB" (max 8 (floor (divf $mib (mulf 2.0 (float64 $workers))) | int)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The IngressClass served and its spec.controller: ingress-nginx's with ingressNginx.takeOver
(k8s.io/ingress-nginx is also what selects ingress-nginx's defaults), else the chart's own.
*/}}
{{- define "signalbox.ingressClass" -}}
{{- if .Values.ingressNginx.takeOver -}}
{{- .Values.ingressNginx.ingressClass -}}
{{- else -}}
{{- .Values.controller.ingressClass -}}
{{- end -}}
{{- end -}}

{{- define "signalbox.controllerName" -}}
{{- if .Values.ingressNginx.takeOver -}}
k8s.io/ingress-nginx
{{- else -}}
{{- .Values.controller.controllerName -}}
{{- end -}}
{{- end -}}

{{/* Taking over, the IngressClass is ingress-nginx's: a second one of that name would be refused by helm, or steal it. */}}
{{- define "signalbox.createIngressClass" -}}
{{- if and .Values.ingressClass.create (not .Values.ingressNginx.takeOver) -}}
true
{{- end -}}
{{- end -}}
