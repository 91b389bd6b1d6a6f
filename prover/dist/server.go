package dist

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// DefaultAddr is where the embedded server listens by default: the
// standard NATS port on loopback, so workers on the same machine connect
// with --nats.url nats://127.0.0.1:4222.
const DefaultAddr = "127.0.0.1:4222"

// ServerConfig configures an embedded NATS server.
type ServerConfig struct {
	// Dir holds JetStream's storage (streams survive a restart).
	Dir string
	// Addr is host:port to listen on; port 0 picks a free port.
	Addr string
	Log  *slog.Logger
}

// Server is an embedded NATS server with JetStream.
type Server struct {
	ns *server.Server
}

// StartServer starts an embedded NATS server with JetStream on c.Dir and
// waits until it accepts connections.
func StartServer(c ServerConfig) (*Server, error) {
	if c.Dir == "" {
		return nil, errors.New("dist: the embedded NATS server needs a storage directory")
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	host, portStr, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("dist: NATS address %q: %w", c.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("dist: NATS address %q: bad port", c.Addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "velox",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   c.Dir,
		MaxPayload: MaxJobBytes,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("dist: NATS server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("dist: the embedded NATS server on %s did not start (port in use? set another address)", c.Addr)
	}
	if c.Log != nil {
		c.Log.Info("embedded NATS server with JetStream", "url", ns.ClientURL(), "dir", c.Dir)
	}
	return &Server{ns: ns}, nil
}

// URL is the server's client URL.
func (s *Server) URL() string { return s.ns.ClientURL() }

// Close shuts the server down and waits for it.
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Connect dials a NATS server for a Velox component named name, with
// reconnection forever (a restarting server or node is not fatal).
func Connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond),
		nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("dist: connecting to NATS at %s: %w", url, err)
	}
	return nc, nil
}
