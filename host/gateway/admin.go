package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

// The admin listener: the part of Envoy's admin interface (envoy.yaml's admin, 127.0.0.1:9901)
// that a Prometheus scraper and a load balancer's health check use.

// State is the gateway's server state as Envoy's /ready names it: "INITIALIZING" until a
// listener is being served, "LIVE" while one is, "DRAINING" once Shutdown or Close began.
func (g *Gateway) State() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.shutting:
		return "DRAINING"
	case len(g.listeners) > 0:
		return "LIVE"
	}
	return "INITIALIZING"
}

// WritePrometheus writes the plugin's metrics as Envoy's /stats/prometheus does: both filters'
// plugins (one set of stats when they share VMs; with Filters SeparateVMs, summed by name as
// Envoy's stat store keeps one stat per name).
func (g *Gateway) WritePrometheus(w io.Writer) error {
	return host.WritePrometheusMerged(w, g.plugin, g.httpPlugin)
}

// AdminHandler serves GET /stats, /stats/prometheus (the plugin's metrics, as Envoy's admin shows
// them; host.MergedAdminHandler) and /ready (200 "LIVE" while a listener is served, else 503
// with State).
func (g *Gateway) AdminHandler() http.Handler {
	return host.MergedAdminHandler(g.State, g.plugin, g.httpPlugin)
}

// ServeAdmin serves AdminHandler on ln (plain HTTP: bind it to a loopback or otherwise private
// address, as Envoy's admin). It stays up while Shutdown drains, so /ready answers DRAINING, and
// closes when Shutdown or Close ends; it then returns ErrServerClosed.
func (g *Gateway) ServeAdmin(ln net.Listener) error {
	srv := &http.Server{Handler: g.AdminHandler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	g.mu.Lock()
	closed := g.adminsClosed
	if !closed {
		g.admins[srv] = struct{}{}
	}
	g.mu.Unlock()
	if closed {
		ln.Close()
		return ErrServerClosed
	}
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return ErrServerClosed
	}
	g.mu.Lock()
	delete(g.admins, srv)
	g.mu.Unlock()
	return err
}

// closeAdmins closes the admin servers, at the end of Shutdown or Close.
func (g *Gateway) closeAdmins() {
	g.mu.Lock()
	g.adminsClosed = true
	srvs := make([]*http.Server, 0, len(g.admins))
	for s := range g.admins {
		srvs = append(srvs, s)
	}
	g.admins = map[*http.Server]struct{}{}
	g.mu.Unlock()
	for _, s := range srvs {
		s.Close()
	}
}
