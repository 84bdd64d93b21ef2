package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/edocgw/edocgw/internal/devpki"
	"github.com/edocgw/edocgw/internal/server"
)

func runServe(args []string, env Env) error {
	f := newFlags("serve", "[--data DIR] [--listen ADDR] [--tls-cert C --tls-key K]", env)
	data := f.String("data", DefaultDataDir, "data folder of the embedded backend")
	listen := f.String("listen", "127.0.0.1:8443", "address to listen on (HTTPS)")
	certFile := f.String("tls-cert", "", "TLS certificate (default: the development PKI made in DIR/pki)")
	keyFile := f.String("tls-key", "", "TLS private key")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve: unexpected argument %q", pos[0])
	}
	if (*certFile == "") != (*keyFile == "") {
		return usagef("serve: --tls-cert and --tls-key go together")
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	caNote := ""
	if *certFile == "" {
		files, created, err := devpki.Ensure(*data, env.now())
		if err != nil {
			return fmt.Errorf("development PKI: %w", err)
		}
		*certFile, *keyFile = files.ServerCert, files.ServerKey
		verb := "using"
		if created {
			verb = "created"
		}
		caNote = fmt.Sprintf("%s the development PKI; clients trust %s", verb, files.CACert)
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return fmt.Errorf("TLS: %w", err)
	}
	abs, _ := filepath.Abs(*data)
	srv, err := server.New(server.Config{DataDir: abs, Now: env.Now})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
	}
	// Signals are caught before the address is printed: whoever reads it
	// may stop the server at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(env.Stdout, "edocgw serving https://%s (embedded storage in %s)\n", ln.Addr(), abs)
	if caNote != "" {
		fmt.Fprintln(env.Stdout, caNote)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(env.Stdout, "edocgw stopped")
	return nil
}
