//go:build unix

package testserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed prosody.cfg.lua.in
var configTemplate string

// Options shape one server. The zero value is a fast, flat-file Prosody for
// domain "rounds.test" offering SCRAM-SHA-1.
type Options struct {
	// Domain is the XMPP domain (default "rounds.test"). It never needs to resolve:
	// clients connect to 127.0.0.1 and name the domain in the stream header.
	Domain string
	// Dir keeps the server's config, data and log. Empty means a fresh temporary
	// directory that Stop removes; a given Dir is kept (the demo uses one).
	Dir string
	// SQL selects SQLite storage (needs lua-dbi-sqlite3). The default flat files
	// re-read a whole archive for every MAM page; benchmarks use SQL.
	SQL bool
	// SCRAMSHA256 stores SHA-256 hashes so the server offers SCRAM-SHA-256
	// instead of SCRAM-SHA-1. It must be chosen before accounts are created.
	SCRAMSHA256 bool
	// NoOffline disables mod_offline, so messages to an offline account live
	// only in its archive (MAM). Catch-up benchmarks use it so that signing in
	// does not also replay the same messages as a live flood.
	NoOffline bool
	// HibernationSeconds is how long a dropped XEP-0198 session stays resumable
	// (default 60).
	HibernationSeconds int
	// LogLevel is Prosody's minimum log level (default "warn", or
	// $ROUNDS_PROSODY_LOG).
	LogLevel string
	// UploadSizeLimit is http_file_share's per-file limit in bytes (default
	// 10 MiB, Prosody's); the daily quota is 100 times it. Attachment
	// benchmarks raise it for 50 MB files.
	UploadSizeLimit int64
	// Ports, when non-zero, fix the ports (the demo keeps its URL stable).
	HTTPPort, HTTPSPort, C2SPort int
	// StrangerDomain, when set, is a second virtual host on the same Prosody
	// (another hospital, routed locally): accounts there are made with
	// CreateAccountAt. Prosody only.
	StrangerDomain string
	// Render, when set, writes ejabberd's configuration instead of the
	// harness's template. It is called with the ports and directory chosen
	// for this run (certs/ in it may be overwritten), so a test can start
	// the server from a configuration generated the way an admin would
	// (cli's deployment tests, from `rounds admin server-config`). The
	// server must still answer GET /ws on HTTPPort and accept on C2SPort.
	// ejabberd only.
	Render func(s *Server) (string, error)
}

// Server is one running (or stopped) Prosody or, from StartEjabberd, ejabberd.
type Server struct {
	Domain    string
	Dir       string
	HTTPPort  int
	HTTPSPort int
	C2SPort   int
	// CertPEM is the self-signed certificate the server presents on wss:// and
	// STARTTLS; RootCAs holds it for clients that verify.
	CertPEM []byte
	RootCAs *x509.CertPool

	opts    Options
	cfgPath string
	ownDir  bool
	kind    serverKind
	ej      *ejabberdState // nil for Prosody

	// member is set for a node of an ejabberd cluster (cluster.go): it runs in
	// its own network namespace, reached only through member.dial.
	member *clusterMember

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
}

// PubSubAdmin is the local part of the account Prosody's pubsub component
// (pubsub.<Domain>) treats as its admin: only it may create the org policy
// and on-call nodes and publish to them. Create it with CreateAccount.
const PubSubAdmin = "it.admin"

// ErrProsodyMissing means the prosody binary is not installed; `make test` and
// `make demo` install it (scripts/install-deps.sh).
var ErrProsodyMissing = errors.New("testserver: prosody is not installed (run scripts/install-deps.sh or `make test`)")

// Start renders a configuration, starts prosody in the foreground and returns once
// its HTTP listener answers on the WebSocket path.
func Start(opts Options) (*Server, error) {
	if _, err := exec.LookPath("prosody"); err != nil {
		return nil, ErrProsodyMissing
	}
	sweepStale()
	if opts.Domain == "" {
		opts.Domain = "rounds.test"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = os.Getenv("ROUNDS_PROSODY_LOG")
		if opts.LogLevel == "" {
			opts.LogLevel = "warn"
		}
	}
	if opts.HibernationSeconds == 0 {
		opts.HibernationSeconds = 60
	}
	s := &Server{Domain: opts.Domain, opts: opts}
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", staleDirPrefix)
		if err != nil {
			return nil, fmt.Errorf("testserver: temp dir: %w", err)
		}
		s.Dir, s.ownDir = dir, true
		if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			return nil, err
		}
	} else {
		abs, err := filepath.Abs(opts.Dir)
		if err != nil {
			return nil, err
		}
		s.Dir = abs
	}
	if err := s.prepare(); err != nil {
		s.cleanup()
		return nil, err
	}
	if err := s.launch(); err != nil {
		s.cleanup()
		return nil, err
	}
	return s, nil
}

func (s *Server) prepare() error {
	for _, d := range []string{"certs", "data"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o700); err != nil {
			return err
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	s.HTTPPort, s.HTTPSPort, s.C2SPort = pick(s.opts.HTTPPort, ports[0]), pick(s.opts.HTTPSPort, ports[1]), pick(s.opts.C2SPort, ports[2])
	crt := filepath.Join(s.Dir, "certs", s.Domain+".crt")
	key := filepath.Join(s.Dir, "certs", s.Domain+".key")
	if pem, err := os.ReadFile(crt); err == nil && !s.ownDir {
		// A kept directory (the demo) keeps its certificate so clients that
		// trusted it once still do.
		pool := x509.NewCertPool()
		if pool.AppendCertsFromPEM(pem) {
			s.RootCAs, s.CertPEM = pool, pem
		}
	}
	if s.RootCAs == nil {
		pool, pem, err := writeSelfSigned(crt, key, s.Domain)
		if err != nil {
			return err
		}
		s.RootCAs, s.CertPEM = pool, pem
	}
	passwordHash := "-- password_hash = \"SHA-1\" (Prosody default)"
	if s.opts.SCRAMSHA256 {
		passwordHash = `password_hash = "SHA-256"`
	}
	storage := `storage = "internal"`
	if s.opts.SQL {
		storage = `storage = "sql"
sql = { driver = "SQLite3", database = "prosody.sqlite" }`
	}
	cfg := strings.NewReplacer(
		"@RUNDIR@", s.Dir,
		"@DOMAIN@", s.Domain,
		"@LOG_LEVEL@", s.opts.LogLevel,
		"@HTTP_PORT@", strconv.Itoa(s.HTTPPort),
		"@HTTPS_PORT@", strconv.Itoa(s.HTTPSPort),
		"@C2S_PORT@", strconv.Itoa(s.C2SPort),
		"@PASSWORD_HASH@", passwordHash,
		"@STORAGE@", storage,
		"@MODULES_DISABLED@", map[bool]string{true: `; "offline"`, false: ""}[s.opts.NoOffline],
		"@SMACKS_HIBERNATION@", strconv.Itoa(s.opts.HibernationSeconds),
		"@UPLOAD_SIZE_LIMIT@", strconv.FormatInt(uploadLimit(s.opts.UploadSizeLimit), 10),
		"@UPLOAD_DAILY_QUOTA@", strconv.FormatInt(100*uploadLimit(s.opts.UploadSizeLimit), 10),
	).Replace(configTemplate)
	if d := s.opts.StrangerDomain; d != "" {
		cfg += "\nVirtualHost \"" + d + "\"\n"
	}
	s.cfgPath = filepath.Join(s.Dir, "prosody.cfg.lua")
	return os.WriteFile(s.cfgPath, []byte(cfg), 0o600)
}

func uploadLimit(n int64) int64 {
	if n <= 0 {
		return 10 << 20
	}
	return n
}

func pick(fixed, free int) int {
	if fixed != 0 {
		return fixed
	}
	return free
}

// launch starts the process and waits for readiness. Ports picked as free can be
// taken by someone else in between; a failed start is retried on new ports.
func (s *Server) launch() error {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 && s.opts.HTTPPort == 0 {
			if err := s.prepare(); err != nil {
				return err
			}
		}
		if lastErr = s.launchOnce(); lastErr == nil {
			return nil
		}
	}
	return lastErr
}

func (s *Server) launchOnce() error {
	if s.kind == kindEjabberd {
		return s.launchEjabberdOnce()
	}
	cmd := exec.Command("prosody", "--config", s.cfgPath, "-F")
	cmd.Dir = s.Dir
	cmd.SysProcAttr = serverProcAttr()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return s.startAndWait(cmd, "prosody", 15*time.Second, func() string { return strings.TrimSpace(out.String()) })
}

// startAndWait starts a server process (Prosody or ejabberd) and returns once
// both listeners answer: HTTP on the WebSocket path for ws://, and c2s for
// slixmpp peers. output describes what the process printed, for errors.
func (s *Server) startAndWait(cmd *exec.Cmd, name string, timeout time.Duration, output func() string) error {
	exited := make(chan struct{})
	start := cmd.Start
	if s.member != nil {
		start = func() error { return s.member.start(cmd, exited) }
	}
	if err := start(); err != nil {
		return fmt.Errorf("testserver: start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.exited, s.stopped = cmd, exited, false
	s.mu.Unlock()

	deadline := time.Now().Add(timeout)
	client := s.httpClient(time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("testserver: %s exited during start:\n%s\n%s", name, output(), s.tailLog())
		default:
		}
		err := s.listening(client)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("testserver: %s not ready after %v: %v\n%s\n%s", name, timeout, err, output(), s.tailLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listening reports nil once the WebSocket path answers 200 (both servers
// answer a plain GET with a page) and the c2s port accepts.
func (s *Server) listening(client *http.Client) error {
	resp, err := client.Get(s.HTTPURL() + s.wsPath())
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", s.wsPath(), resp.Status)
	}
	dctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := s.dialContext(dctx, "tcp", s.C2SAddr())
	if err != nil {
		return err
	}
	return c.Close()
}

// HTTPURL is the plain HTTP base on loopback (WebSocket, uploads, host-meta).
func (s *Server) HTTPURL() string { return "http://" + s.host() + ":" + strconv.Itoa(s.HTTPPort) }

// host is the address the server listens on: loopback, or a cluster
// node's own address in its namespace.
func (s *Server) host() string {
	if s.member != nil {
		return s.member.ip
	}
	return "127.0.0.1"
}

func (s *Server) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if s.member != nil {
		return s.member.dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// httpClient reaches the server's HTTP listener (through the cluster's client
// namespace for a cluster node).
func (s *Server) httpClient(timeout time.Duration) *http.Client {
	if s.member == nil {
		return &http.Client{Timeout: timeout}
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: s.member.dial}}
}

// WSURL is the RFC 7395 endpoint over plain ws:// (loopback only). The path is
// /xmpp-websocket on Prosody and /ws on ejabberd.
func (s *Server) WSURL() string {
	return "ws://" + s.host() + ":" + strconv.Itoa(s.HTTPPort) + s.wsPath()
}

// WSSURL is the RFC 7395 endpoint over TLS; verify it with RootCAs.
func (s *Server) WSSURL() string {
	return "wss://" + s.host() + ":" + strconv.Itoa(s.HTTPSPort) + s.wsPath()
}

// C2SAddr is the TCP c2s listener (STARTTLS) for scripted foreign clients.
func (s *Server) C2SAddr() string { return s.host() + ":" + strconv.Itoa(s.C2SPort) }

// TLSConfig verifies the server's self-signed certificate for the given name.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs, ServerName: s.Domain, MinVersion: tls.VersionTLS12}
}

// JID returns user@domain.
func (s *Server) JID(user string) string { return user + "@" + s.Domain }

// CreateAccount registers user@Domain with prosodyctl (ejabberd: its HTTP API on
// loopback). It works while the server runs (prosodyctl writes to the same storage).
func (s *Server) CreateAccount(user, password string) error {
	if s.kind == kindEjabberd {
		return s.registerEjabberd(user, password)
	}
	return s.CreateAccountAt(user, s.Domain, password)
}

// CreateAccountAt registers user@domain on Prosody: domain is Domain or
// Options.StrangerDomain.
func (s *Server) CreateAccountAt(user, domain, password string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "prosodyctl", "--config", s.cfgPath, "register", user, domain, password)
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("testserver: register %s: %w: %s", user, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// CreateAccounts registers several accounts, all with the same password.
func (s *Server) CreateAccounts(password string, users ...string) error {
	for _, u := range users {
		if err := s.CreateAccount(u, password); err != nil {
			return err
		}
	}
	return nil
}

// Log returns the server's log so far, for test failure messages.
func (s *Server) Log() string {
	name := "prosody.log"
	if s.kind == kindEjabberd {
		name = "ejabberd.log"
	}
	b, _ := os.ReadFile(filepath.Join(s.Dir, name))
	return string(b)
}

func (s *Server) tailLog() string {
	l := s.Log()
	if len(l) > 4000 {
		l = l[len(l)-4000:]
	}
	return l
}

// Kill ends the server abruptly (SIGKILL), as a crash or power loss would; data
// already written stays for Restart.
func (s *Server) Kill() { s.kill() }

func (s *Server) kill() {
	s.signal(syscall.SIGKILL)
}

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.stopped = true
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	// Negative pid: the whole process group.
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// Halt stops the process gracefully but keeps its directory, for Restart.
func (s *Server) Halt() {
	if s.kind == kindEjabberd {
		s.haltEjabberd()
		return
	}
	s.signal(syscall.SIGTERM)
}

// Restart stops the server gracefully and starts it again on the same ports with
// the same data: accounts and archives survive, live sessions do not.
func (s *Server) Restart() error {
	s.Halt()
	return s.launchOnce()
}

// PID is the server process's id (0 when it is not running): the load
// generator reads how long its threads waited for a CPU (/proc/PID/task).
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// CPUTime is the server process's user+system CPU time so far (Linux, from
// /proc; 0 elsewhere or when it is not running): benchmarks compare what
// the server spends on different clients' work.
func (s *Server) CPUTime() time.Duration {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces, so cut at the
	// last ')'): state is field 3, utime 14, stime 15, in clock ticks
	// (USER_HZ, 100 on Linux).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(u+st) * 10 * time.Millisecond
}

// Stop ends the server and removes its temporary directory. Safe to call twice.
func (s *Server) Stop() {
	s.Halt()
	s.cleanup()
}

func (s *Server) cleanup() {
	if s.ownDir && s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}

// freePorts asks the kernel for n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testserver: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// CertFile is the path of the server's certificate (PEM), for clients such as
// slixmpp that take a CA file.
func (s *Server) CertFile() string {
	return filepath.Join(s.Dir, "certs", s.Domain+".crt")
}

// serverKind tells which XMPP server a Server runs.
type serverKind int

const (
	kindProsody serverKind = iota
	kindEjabberd
)

// WSPath is the WebSocket endpoint's path on this server, for clients that
// reach it through a proxy of their own.
func (s *Server) WSPath() string { return s.wsPath() }

func (s *Server) wsPath() string {
	if s.kind == kindEjabberd {
		return "/ws"
	}
	return "/xmpp-websocket"
}
