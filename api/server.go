// Package api is Remedy's HTTP adapter: Echo routes over the domain services.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server is the HTTP server.
type Server struct {
	echo     *echo.Echo
	listener net.Listener
	db       Pinger
	log      *slog.Logger
}

// NewServer returns a server over db that logs to log.
func NewServer(db Pinger, log *slog.Logger) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{echo: e, db: db, log: log}
	e.GET("/healthz", s.health)
	e.GET("/readyz", s.ready)
	return s
}

// Handler returns the server's root handler, for tests.
func (s *Server) Handler() http.Handler { return s.echo }

// Open starts listening on addr; ":0" picks a free port.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.listener = ln
	s.echo.Listener = ln
	s.echo.Server.ReadHeaderTimeout = 10 * time.Second
	go func() {
		if err := s.echo.Start(""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Close stops accepting requests and waits for those under way.
func (s *Server) Close(ctx context.Context) error { return s.echo.Shutdown(ctx) }

func (s *Server) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
