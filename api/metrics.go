package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of its own so
// that several servers can live in one test process. Labels are route
// templates and statuses: never an id or a value.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// rateLimited counts requests refused with 429 by a rate limit, by policy.
	rateLimited *prometheus.CounterVec
	handler     http.Handler
}

// BuildInfo names the running build in the remedy_build_info metric.
// Empty fields are reported as "unknown".
type BuildInfo struct {
	Version, Revision, GoVersion string
}

func newMetrics(build BuildInfo) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remedy_http_requests_total", Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "remedy_http_request_duration_seconds", Help: "HTTP request latency by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remedy_http_rate_limited_total", Help: "Requests refused with 429 by a rate limit, by policy (address or user).",
		}, []string{"policy"}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "remedy_build_info", Help: "Always 1; its labels name the running build.",
		ConstLabels: prometheus.Labels{"version": orUnknown(build.Version), "revision": orUnknown(build.Revision),
			"goversion": orUnknown(build.GoVersion)},
	})
	info.Set(1)
	m.registry.MustRegister(m.requests, m.duration, m.rateLimited, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}

// observe counts a request. method must come through methodLabel.
func (m *metrics) observe(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// methodLabel bounds the method a client sent to the standard ones: any
// other (FOOBAR, or a 100 KiB token) is "other", in metrics and logs alike,
// so that a client cannot mint label values or bloat log lines.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}
