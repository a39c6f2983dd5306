package testgen

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"
)

// TLSConfig selects the handshake and the application data of a TLS
// session run by TLSHandshake.
type TLSConfig struct {
	Version    uint16    // tls.VersionTLS12 or tls.VersionTLS13
	ServerName string    // SNI, and the DNS name of the server certificate
	ALPN       []string  // protocols the client offers
	ServerALPN []string  // protocols the server accepts, in its order of preference (nil: ALPN)
	Request    []byte    // application data the client sends after the handshake
	Response   []byte    // application data the server answers with
	Seed       uint64    // keys, randoms and the certificate derive from it
	Time       time.Time // clock of both ends; the certificate is valid around it
}

// TLSFlight is what one end wrote in one Write call: one or more TLS records.
type TLSFlight struct {
	FromServer bool
	Data       []byte
}

// detRand is a deterministic random source for crypto/tls. It answers
// one-byte reads with a constant and without advancing: the crypto packages
// make such a read at random (randutil.MaybeReadByte) to catch callers that
// expect determinism, and skipping it keeps the stream the same on every run.
type detRand struct{ c *rand.ChaCha8 }

func newDetRand(seed uint64, label string) *detRand {
	var s [32]byte
	for i := 0; i < 8; i++ {
		s[i] = byte(seed >> (8 * i))
	}
	copy(s[8:], label)
	return &detRand{c: rand.NewChaCha8(s)}
}

func (r *detRand) Read(p []byte) (int, error) {
	if len(p) == 1 {
		p[0] = 0
		return 1, nil
	}
	return r.c.Read(p)
}

var godebugMu sync.Mutex

// withCustomRand runs f with GODEBUG cryptocustomrand=1, so that the
// crypto packages (key generation of crypto/ecdh in particular) use the
// io.Reader they are given instead of the system's. Go 1.26 ignores that
// reader by default. The runtime applies a change of the GODEBUG variable
// at once; the previous value is restored afterwards.
func withCustomRand(f func() error) error {
	godebugMu.Lock()
	defer godebugMu.Unlock()
	old, had := os.LookupEnv("GODEBUG")
	v := "cryptocustomrand=1"
	if old != "" {
		v = old + "," + v
	}
	if err := os.Setenv("GODEBUG", v); err != nil {
		return err
	}
	defer func() {
		if had {
			os.Setenv("GODEBUG", old)
		} else {
			os.Unsetenv("GODEBUG")
		}
	}()
	return f()
}

// selfSigned returns an Ed25519 certificate for name (Ed25519 signatures
// are deterministic, so the handshake is too).
func selfSigned(name string, seed uint64, now time.Time) (tls.Certificate, error) {
	var keySeed [ed25519.SeedSize]byte
	newDetRand(seed, "certificate key").Read(keySeed[:])
	priv := ed25519.NewKeyFromSeed(keySeed[:])
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetUint64(seed | 1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"jjsql testgen"}},
		DNSNames:              []string{name},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(newDetRand(seed, "certificate"), tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, nil
}

// recConn records every Write before passing it on.
type recConn struct {
	net.Conn
	server bool
	mu     *sync.Mutex
	log    *[]TLSFlight
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.log = append(*c.log, TLSFlight{FromServer: c.server, Data: append([]byte(nil), p...)})
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// TLSHandshake runs a crypto/tls client and server over net.Pipe: the
// handshake, the request, the response, then close_notify from the client
// and from the server. It returns what each end wrote, in order (the ends
// take turns, so the order is fixed). Session tickets are off and the key
// exchange groups are X25519 and P-256, so the bytes depend only on cfg.
func TLSHandshake(cfg TLSConfig) ([]TLSFlight, error) {
	var flights []TLSFlight
	err := withCustomRand(func() error {
		var err error
		flights, err = runTLS(cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("testgen: tls: %w", err)
	}
	return flights, nil
}

func runTLS(cfg TLSConfig) ([]TLSFlight, error) {
	cert, err := selfSigned(cfg.ServerName, cfg.Seed, cfg.Time)
	if err != nil {
		return nil, err
	}
	clock := func() time.Time { return cfg.Time }
	groups := []tls.CurveID{tls.X25519, tls.CurveP256}
	serverALPN := cfg.ServerALPN
	if serverALPN == nil {
		serverALPN = cfg.ALPN
	}
	ccfg := &tls.Config{
		ServerName: cfg.ServerName, NextProtos: cfg.ALPN,
		MinVersion: cfg.Version, MaxVersion: cfg.Version,
		Rand: newDetRand(cfg.Seed, "client"), Time: clock,
		CurvePreferences: groups, SessionTicketsDisabled: true,
		InsecureSkipVerify: true, // self-signed; the handshake bytes are what matters
	}
	scfg := &tls.Config{
		Certificates: []tls.Certificate{cert}, NextProtos: serverALPN,
		MinVersion: cfg.Version, MaxVersion: cfg.Version,
		Rand: newDetRand(cfg.Seed, "server"), Time: clock,
		CurvePreferences: groups, SessionTicketsDisabled: true,
	}
	var mu sync.Mutex
	var log []TLSFlight
	cc, sc := net.Pipe()
	client := tls.Client(&recConn{Conn: cc, mu: &mu, log: &log}, ccfg)
	server := tls.Server(&recConn{Conn: sc, server: true, mu: &mu, log: &log}, scfg)

	done := make(chan error, 1)
	go func() {
		done <- func() error {
			defer sc.Close()
			if err := server.Handshake(); err != nil {
				return err
			}
			req := make([]byte, len(cfg.Request))
			if _, err := io.ReadFull(server, req); err != nil {
				return err
			}
			if _, err := server.Write(cfg.Response); err != nil {
				return err
			}
			var b [1]byte
			if _, err := server.Read(b[:]); !errors.Is(err, io.EOF) {
				return fmt.Errorf("server: want close_notify, got %v", err)
			}
			return server.Close()
		}()
	}()
	cerr := func() error {
		defer cc.Close()
		if err := client.Handshake(); err != nil {
			return err
		}
		if _, err := client.Write(cfg.Request); err != nil {
			return err
		}
		resp := make([]byte, len(cfg.Response))
		if _, err := io.ReadFull(client, resp); err != nil {
			return err
		}
		if err := client.CloseWrite(); err != nil {
			return err
		}
		var b [1]byte
		if _, err := client.Read(b[:]); !errors.Is(err, io.EOF) {
			return fmt.Errorf("client: want close_notify, got %v", err)
		}
		return nil
	}()
	serr := <-done
	if cerr != nil {
		return nil, fmt.Errorf("client: %w", cerr)
	}
	if serr != nil {
		return nil, fmt.Errorf("server: %w", serr)
	}
	return log, nil
}

// TLSConversation runs TLSHandshake and carries its flights on a TCP
// connection of cv: handshake at start, one burst per flight, then the
// close. It returns the time of the last segment.
func TLSConversation(cv *Conv, start time.Time, tcp TCPConfig, cfg TLSConfig, end TCPEnd) time.Time {
	flights, err := TLSHandshake(cfg)
	if err != nil {
		cv.fail(err)
		return start
	}
	msgs := make([]Message, len(flights))
	for i, f := range flights {
		msgs[i] = Message{FromServer: f.FromServer, Data: f.Data}
	}
	return TCPConversation(cv, start, tcp, msgs, end)
}
