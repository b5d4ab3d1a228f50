//go:build unix

package testserver

// ejabberd 23.01 (Debian) as a second real server, behind the same *Server as Prosody.
//
// How it runs: the harness starts `erl` itself (the command line ejabberdctl would
// build: -sname NODE -mnesia dir DIR/db -s ejabberd -noinput), as user `ejabberd`
// through SysProcAttr.Credential, in its own process group with Pdeathsig. beam.smp
// is then our direct child (erl execs erlexec execs beam), so the kernel kills it
// when the test binary dies. Stop sends SIGTERM to beam (OTP turns it into
// init:stop(): ejabberd stops its listeners, Mnesia closes its tables), waits, then
// SIGKILLs the group, and removes the directory.
//
// Accounts are created through mod_http_api (POST /api/register on the loopback
// HTTP listener, ~50 ms) rather than `ejabberdctl register` (~2 s, it boots a whole
// Erlang node to make one RPC). Server.EjabberdCtl runs ejabberdctl against the
// instance for anything else.
//
// Pitfalls hit on the way (ejabberd 23.01, OTP 25, Debian 12):
//
//   - `ejabberdctl foreground` is not a good child: ejabberdctl is a bash script that
//     runs `su ejabberd -c erl ...` as a child (no exec), so Pdeathsig on the script
//     never reaches beam, and a killed test binary leaves ejabberd running. Hence
//     erl is started directly with the same arguments and environment.
//   - ejabberdctl's --config is overridden: the script sources ejabberdctl.cfg after
//     parsing its flags, and Debian's /etc/ejabberd/ejabberdctl.cfg sets
//     EJABBERD_CONFIG_PATH=/etc/ejabberd/ejabberd.yml. EjabberdCtl therefore passes
//     its own --ctl-config (written into the instance dir) and --config-dir.
//   - ejabberdctl (and the node, which we run as `ejabberd`) drops to the `ejabberd`
//     user: the instance dir must belong to it and every parent must be traversable,
//     so it lives in os.TempDir(), never under /root (0700).
//   - Erlang distribution: by default every node registers with epmd on port 4369,
//     and erl starts an epmd daemon that outlives all nodes (it is shared by every
//     Erlang node on the machine; ejabberdctl's `stopped` kills it only when no name
//     is left). The harness avoids epmd entirely: each instance gets its own
//     distribution port (ERL_DIST_PORT / -erl_epmd_port, -start_epmd false), bound to
//     127.0.0.1 (-kernel inet_dist_use_interface), a random cookie and a unique
//     node name rounds<hex>@localhost. So no epmd is started by the harness; if one
//     is running, it was started by something else (e.g. ejabberdctl without
//     ERL_DIST_PORT, or Debian's ejabberd service) and is left alone.
//   - Mnesia's schema names the node: a kept Dir (Options.Dir) must restart under the
//     same node name, so the name and cookie are stored in the dir (node.txt).
//   - The default c2s shaper throttles to 3000 B/s and registration_timeout is 600 s
//     per IP; both are switched off (shaper_rules c2s_shaper: none,
//     registration_timeout: infinity), or MAM catch-up and account creation crawl.
//   - certfiles wants certificate and key in one PEM file (certs/ejabberd.pem); the
//     Prosody-style certs/DOMAIN.crt is written too so CertFile works for both.
//   - GET /ws answers 200 with an HTML page (not 426); any HTTP answer means the
//     listener is up. Listeners open only after all modules have started, so the
//     readiness poll on /ws and c2s is sufficient.
//   - ejabberd quotes attributes with ', and its disco results list features in
//     a different order than Prosody; the raw test helpers normalise quotes.
//   - Over plain ws:// ejabberd offers SASL without any "consider secure" option
//     (unlike Prosody); c2s on TCP requires STARTTLS.
//   - SQL: Debian's 23.01 does not create its SQL schema (automatic schema
//     creation came in 23.10), so with Options.SQL the harness loads
//     /usr/share/ejabberd/sql/lite.sql into db/ejabberd.sqlite with sqlite3 and
//     sets sql_type: sqlite and mod_mam's db_type: sql (the driver is Debian's
//     erlang-p1-sqlite3). Everything else, and the archive without Options.SQL,
//     stays in Mnesia, whose archive stalls on a burst (docs/ADMIN.md).
//   - Kill is a real crash for Mnesia: disc_only tables go through dets with delayed
//     writes, so what was written in the last ~0.1-0.3 s before SIGKILL (an account
//     created just before, the newest archived messages) is gone after Restart,
//     while Prosody keeps it. Tests that Kill and expect data back must wait a
//     moment (or use Halt, which is graceful).
//   - Stop is SIGTERM, not `ejabberdctl stop`: the latter boots a second Erlang node
//     and su's to ejabberd (~1-2 s) for the same init:stop(). ejabberd itself stops
//     in ~50 ms; OTP takes the rest of the ~1 s to exit.
//   - Options.Dir works, but the directory is chowned to ejabberd.
//
// Timing (2-core machine, under load from other tests): StartEjabberd 1.7-2.0 s
// (up to ~4.5 s when the machine is busy), Restart 2.5-3 s, CreateAccount 30-60 ms,
// EjabberdCtl 0.8-1.4 s, Stop ~1.05 s; about 90 MB of memory a node.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

//go:embed ejabberd.yml.in
var ejabberdTemplate string

const (
	ejabberdDirPrefix = "rounds-ejabberd-"
	ejabberdUser      = "ejabberd"
	ejabberdNodeFile  = "node.txt"
)

// ErrEjabberdMissing means ejabberd (or Erlang's erl) is not installed:
// `apt-get install -y ejabberd`.
var ErrEjabberdMissing = errors.New("testserver: ejabberd is not installed (apt-get install -y ejabberd)")

// ejabberdState is what only an ejabberd Server needs.
type ejabberdState struct {
	erl      string // path of erl
	erlLibs  string // ERL_LIBS holding ejabberd-<version>/ebin
	ctl      string // path of ejabberdctl
	node     string // Erlang node name, rounds<hex>@localhost
	cookie   string
	distPort int
	cred     *syscall.Credential // nil when already running as ejabberd
	uid, gid int
}

// StartEjabberd is Start for ejabberd: it renders ejabberd.yml into a fresh
// directory, starts the node in the foreground as user ejabberd and returns once
// the HTTP listener (/ws) and c2s answer. WSURL/WSSURL use the path /ws; uploads
// are served at HTTPURL()+"/upload". Options.SQL (the archive in SQLite) and
// Options.LogLevel's Prosody names are mapped; LogLevel defaults to "warning"
// or $ROUNDS_EJABBERD_LOG.
func StartEjabberd(opts Options) (*Server, error) {
	ej, err := findEjabberd()
	if err != nil {
		return nil, err
	}
	sweepStaleEjabberd()
	if opts.Domain == "" {
		opts.Domain = "rounds.test"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = os.Getenv("ROUNDS_EJABBERD_LOG")
	}
	opts.LogLevel = ejabberdLogLevel(opts.LogLevel)
	if opts.HibernationSeconds == 0 {
		opts.HibernationSeconds = 60
	}
	s := &Server{Domain: opts.Domain, opts: opts, kind: kindEjabberd, ej: ej}
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", ejabberdDirPrefix)
		if err != nil {
			return nil, fmt.Errorf("testserver: temp dir: %w", err)
		}
		s.Dir, s.ownDir = dir, true
		if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			s.cleanup()
			return nil, err
		}
	} else {
		abs, err := filepath.Abs(opts.Dir)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, err
		}
		s.Dir = abs
	}
	if err := s.prepareEjabberd(); err != nil {
		s.cleanup()
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		// Ports picked as free can be taken in between; retry on new ones.
		if attempt > 0 {
			if s.opts.HTTPPort != 0 {
				break
			}
			if err := s.prepareEjabberd(); err != nil {
				lastErr = err
				break
			}
		}
		if lastErr = s.launchEjabberdOnce(); lastErr == nil {
			return s, nil
		}
	}
	s.cleanup()
	return nil, lastErr
}

// StartEjabberdT is StartT for ejabberd: it starts a server for one test, creates
// the accounts (password Password) and stops it in t.Cleanup. It fails the test,
// never skips, when ejabberd cannot start; gating (ROUNDS_EJABBERD) is the caller's.
func StartEjabberdT(t testing.TB, opts Options, accounts ...string) *Server {
	t.Helper()
	s, err := StartEjabberd(opts)
	if err != nil {
		t.Fatalf("ejabberd: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ejabberd log (%s):\n%s", s.Dir, s.tailLog())
		}
		s.Stop()
	})
	for _, a := range accounts {
		if err := s.CreateAccount(a, Password); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// Node is the Erlang node name of an ejabberd server ("" for Prosody).
func (s *Server) Node() string {
	if s.ej == nil {
		return ""
	}
	return s.ej.node
}

// EjabberdCtl runs `ejabberdctl ARGS...` against this ejabberd instance (its own
// node name, cookie and distribution port) and returns the combined output. Each
// call boots a small Erlang node: about 1-2 s.
func (s *Server) EjabberdCtl(args ...string) (string, error) {
	if s.kind != kindEjabberd {
		return "", errors.New("testserver: EjabberdCtl on a Prosody server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{
		"--ctl-config", filepath.Join(s.Dir, "ejabberdctl.cfg"),
		"--config-dir", s.Dir,
		"--config", filepath.Join(s.Dir, "ejabberd.yml"),
		"--logs", s.Dir,
		"--spool", filepath.Join(s.Dir, "db"),
		"--node", s.ej.node,
	}, args...)
	cmd := exec.CommandContext(ctx, s.ej.ctl, full...)
	if s.member != nil {
		cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", s.member.netns, s.ej.ctl}, full...)...)
	}
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		return text, fmt.Errorf("testserver: ejabberdctl %s: %w: %s", strings.Join(args, " "), err, text)
	}
	return text, nil
}

func findEjabberd() (*ejabberdState, error) {
	ctl, err := exec.LookPath("ejabberdctl")
	if err != nil {
		// Debian puts it in /usr/sbin, which is not always on a test's PATH.
		if _, serr := os.Stat("/usr/sbin/ejabberdctl"); serr != nil {
			return nil, ErrEjabberdMissing
		}
		ctl = "/usr/sbin/ejabberdctl"
	}
	script, _ := os.ReadFile(ctl)
	ej := &ejabberdState{ctl: ctl}
	// Take erl and ERL_LIBS from the installed ejabberdctl, so the node is started
	// exactly as the package would start it.
	if m := regexp.MustCompile(`(?m)^ERL=["']?([^"'\s]+)`).FindSubmatch(script); m != nil {
		ej.erl = string(m[1])
	}
	if m := regexp.MustCompile(`(?m)^ERL_LIBS=["']?([^"'\s]+)`).FindSubmatch(script); m != nil {
		ej.erlLibs = string(m[1])
	}
	if ej.erl == "" {
		if ej.erl, err = exec.LookPath("erl"); err != nil {
			return nil, ErrEjabberdMissing
		}
	}
	if _, err := os.Stat(ej.erl); err != nil {
		return nil, ErrEjabberdMissing
	}
	if ej.erlLibs == "" {
		matches, _ := filepath.Glob("/usr/lib/*/ejabberd-*/ebin/ejabberd.app")
		if len(matches) == 0 {
			return nil, ErrEjabberdMissing
		}
		ej.erlLibs = filepath.Dir(filepath.Dir(filepath.Dir(matches[0])))
	}
	switch u, err := user.Current(); {
	case err == nil && u.Username == ejabberdUser:
		ej.uid, ej.gid = os.Getuid(), os.Getgid()
	case os.Geteuid() == 0:
		eu, err := user.Lookup(ejabberdUser)
		if err != nil {
			return nil, fmt.Errorf("testserver: no %q user (is ejabberd installed?): %w", ejabberdUser, err)
		}
		uid, _ := strconv.Atoi(eu.Uid)
		gid, _ := strconv.Atoi(eu.Gid)
		ej.uid, ej.gid = uid, gid
		ej.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	default:
		return nil, fmt.Errorf("testserver: ejabberd must be started by root or by user %q", ejabberdUser)
	}
	return ej, nil
}

func ejabberdLogLevel(l string) string {
	switch strings.ToLower(l) {
	case "":
		return "warning"
	case "warn":
		return "warning"
	case "none", "emergency", "alert", "critical", "error", "warning", "notice", "info", "debug":
		return strings.ToLower(l)
	}
	return "warning"
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// prepareEjabberd picks ports, writes the certificate, ejabberd.yml, ejabberdctl.cfg
// and inetrc, and hands the directory to the ejabberd user.
func (s *Server) prepareEjabberd() error {
	for _, d := range []string{"certs", "db", "upload"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o750); err != nil {
			return err
		}
	}
	if err := checkTraversable(s.Dir, s.ej.uid); err != nil {
		return err
	}
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	s.HTTPPort, s.HTTPSPort, s.C2SPort = pick(s.opts.HTTPPort, ports[0]), pick(s.opts.HTTPSPort, ports[1]), pick(s.opts.C2SPort, ports[2])
	s.ej.distPort = ports[3]
	if m := s.member; m != nil {
		// Every node of a cluster has its own namespace: the same ports on
		// each, and the same distribution port, which is how nodes without
		// epmd find each other.
		s.HTTPPort, s.HTTPSPort, s.C2SPort, s.ej.distPort = 5280, 5443, 5222, 4370
		s.ej.node, s.ej.cookie = m.node, m.cookie
		if err := os.WriteFile(filepath.Join(s.Dir, ejabberdNodeFile), []byte(m.node+" "+m.cookie+"\n"), 0o600); err != nil {
			return err
		}
	}

	// Node name and cookie: reused from a kept directory, because the Mnesia
	// schema in db/ belongs to the node that created it.
	nodeFile := filepath.Join(s.Dir, ejabberdNodeFile)
	if b, err := os.ReadFile(nodeFile); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			s.ej.node, s.ej.cookie = f[0], f[1]
		}
	}
	if s.ej.node == "" {
		s.ej.node = "rounds" + randomHex(6) + "@localhost"
		s.ej.cookie = randomHex(16)
		if err := os.WriteFile(nodeFile, []byte(s.ej.node+" "+s.ej.cookie+"\n"), 0o600); err != nil {
			return err
		}
	}

	crt := filepath.Join(s.Dir, "certs", s.Domain+".crt")
	key := filepath.Join(s.Dir, "certs", s.Domain+".key")
	if s.RootCAs == nil {
		if pemBytes, err := os.ReadFile(crt); err == nil && !s.ownDir {
			if pool := newPool(pemBytes); pool != nil {
				s.RootCAs, s.CertPEM = pool, pemBytes
			}
		}
	}
	if s.RootCAs == nil {
		pool, pemBytes, err := writeSelfSigned(crt, key, s.Domain)
		if err != nil {
			return err
		}
		s.RootCAs, s.CertPEM = pool, pemBytes
	}
	keyPEM, err := os.ReadFile(key)
	if err != nil {
		return err
	}
	combined := append(append(append([]byte{}, s.CertPEM...), '\n'), keyPEM...)
	if err := os.WriteFile(filepath.Join(s.Dir, "certs", "ejabberd.pem"), combined, 0o600); err != nil {
		return err
	}

	cfg := s.HarnessEjabberdConfig()
	if s.opts.Render != nil {
		if cfg, err = s.opts.Render(s); err != nil {
			return err
		}
	}
	s.cfgPath = filepath.Join(s.Dir, "ejabberd.yml")
	if err := os.WriteFile(s.cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	// "localhost" from a file, so the node name never depends on DNS.
	inetrc := "{lookup,[\"file\",\"native\"]}.\n{host,{127,0,0,1}, [\"localhost\"]}.\n"
	if s.member != nil {
		inetrc += s.member.hosts
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "inetrc"), []byte(inetrc), 0o644); err != nil {
		return err
	}
	// For EjabberdCtl: ejabberdctl sources this after parsing its flags.
	ctlCfg := fmt.Sprintf(`# Written by internal/testserver for this instance only.
ERLANG_NODE=%s
ERL_DIST_PORT=%d
ERL_OPTIONS="%s"
EJABBERD_CONFIG_PATH=%s
EJABBERD_BYPASS_WARNINGS=true
`, s.ej.node, s.ej.distPort, strings.Join(s.erlDistArgs(), " "), s.cfgPath)
	if err := os.WriteFile(filepath.Join(s.Dir, "ejabberdctl.cfg"), []byte(ctlCfg), 0o644); err != nil {
		return err
	}
	if s.opts.SQL {
		if err := loadSQLiteSchema(s.sqlitePath()); err != nil {
			return err
		}
	}
	return chownTree(s.Dir, s.ej.uid, s.ej.gid)
}

// ejabberdSQLiteSchema is the schema Debian's ejabberd ships (the old,
// single-host schema: new_sql_schema is false). 23.01 does not create it.
const ejabberdSQLiteSchema = "/usr/share/ejabberd/sql/lite.sql"

func (s *Server) sqlitePath() string { return filepath.Join(s.Dir, "db", "ejabberd.sqlite") }

// loadSQLiteSchema creates the database file with ejabberd's schema (once:
// a Restart keeps the file). It needs the sqlite3 program and ejabberd's
// SQLite driver (Debian: sqlite3, erlang-p1-sqlite3).
func loadSQLiteSchema(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if _, err := os.Stat("/usr/lib/erlang/lib"); err == nil {
		if m, _ := filepath.Glob("/usr/lib/erlang/lib/p1_sqlite3-*"); len(m) == 0 {
			return fmt.Errorf("testserver: ejabberd with SQL needs its SQLite driver (Debian: erlang-p1-sqlite3; scripts/install-deps.sh)")
		}
	}
	schema, err := os.ReadFile(ejabberdSQLiteSchema)
	if err != nil {
		return fmt.Errorf("testserver: ejabberd's SQLite schema: %w", err)
	}
	cmd := exec.Command("sqlite3", path)
	cmd.Stdin = bytes.NewReader(schema)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testserver: sqlite3 %s < %s: %v: %s", path, ejabberdSQLiteSchema, err, out)
	}
	return nil
}

// HarnessEjabberdConfig is the harness's own ejabberd.yml for this server's
// directory, ports and options: what runs when Options.Render is nil. A test
// that needs the same server with one key changed renders this and edits it.
func (s *Server) HarnessEjabberdConfig() string {
	scramHash := "sha"
	if s.opts.SCRAMSHA256 {
		scramHash = "sha256"
	}
	return strings.NewReplacer(
		"@RUNDIR@", s.Dir,
		"@DOMAIN@", s.Domain,
		"@LOG_LEVEL@", s.opts.LogLevel,
		"@HTTP_PORT@", strconv.Itoa(s.HTTPPort),
		"@HTTPS_PORT@", strconv.Itoa(s.HTTPSPort),
		"@C2S_PORT@", strconv.Itoa(s.C2SPort),
		"@SCRAM_HASH@", scramHash,
		"@SM_RESUME_TIMEOUT@", strconv.Itoa(s.opts.HibernationSeconds),
		"@UPLOAD_SIZE_LIMIT@", strconv.FormatInt(uploadLimit(s.opts.UploadSizeLimit), 10),
		"@MAM_DB@", map[bool]string{true: "sql", false: "mnesia"}[s.opts.SQL],
		"@SQL@", map[bool]string{true: "sql_type: sqlite\nsql_database: \"" + s.sqlitePath() + "\"\n", false: ""}[s.opts.SQL],
		"@MOD_OFFLINE@", map[bool]string{true: "", false: "  mod_offline:\n    use_mam_for_storage: false\n"}[s.opts.NoOffline],
	).Replace(ejabberdTemplate)
}

// erlDistArgs keep Erlang distribution on loopback and private to this instance.
// The port itself is passed as -erl_epmd_port (by ejabberdctl from ERL_DIST_PORT).
func (s *Server) erlDistArgs() []string {
	return []string{
		"-setcookie", s.ej.cookie,
		"-kernel", "inet_dist_use_interface", s.distInterface(),
		"-env", "ERL_CRASH_DUMP_BYTES", "0",
	}
}

func (s *Server) distInterface() string {
	if s.member != nil {
		return "{" + strings.ReplaceAll(s.member.ip, ".", ",") + "}"
	}
	return "{127,0,0,1}"
}

func newPool(pemBytes []byte) *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil
	}
	return pool
}

func chownTree(dir string, uid, gid int) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// checkTraversable fails early (instead of an obscure Erlang crash) when the
// ejabberd user cannot reach dir, e.g. under /root.
func checkTraversable(dir string, uid int) error {
	if uid == os.Getuid() {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok && int(st.Uid) != uid && fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("testserver: %s is not reachable by user %s (parent %s is %v); use a directory outside /root", dir, ejabberdUser, p, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func (s *Server) launchEjabberdOnce() error {
	args := []string{
		"-sname", s.ej.node,
		"+K", "true", "+P", "250000",
		"-erl_epmd_port", strconv.Itoa(s.ej.distPort), "-start_epmd", "false",
	}
	args = append(args, s.erlDistArgs()...)
	args = append(args,
		"-mnesia", "dir", `"`+filepath.Join(s.Dir, "db")+`"`,
		"-s", "ejabberd",
		"-noinput",
	)
	cmd := exec.Command(s.ej.erl, args...)
	cmd.Dir = s.Dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.Dir,
		"LANG=C.UTF-8",
		"EJABBERD_CONFIG_PATH=" + s.cfgPath,
		"EJABBERD_LOG_PATH=" + filepath.Join(s.Dir, "ejabberd.log"),
		"EJABBERD_PID_PATH=" + filepath.Join(s.Dir, "ejabberd.pid"),
		"CONTRIB_MODULES_PATH=" + filepath.Join(s.Dir, "contrib"),
		"ERL_LIBS=" + s.ej.erlLibs,
		"ERL_INETRC=" + filepath.Join(s.Dir, "inetrc"),
		"ERL_CRASH_DUMP=" + filepath.Join(s.Dir, "erl_crash.dump"),
		"ERL_CRASH_DUMP_BYTES=0",
		"ERL_MAX_PORTS=32000",
		"ERL_MAX_ETS_TABLES=1400",
	}
	attr := serverProcAttr()
	attr.Credential = s.ej.cred
	cmd.SysProcAttr = attr
	// ejabberd also logs to the console; keep it in a file, not in memory.
	outPath := filepath.Join(s.Dir, "console.log")
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own copy
	cmd.Stdout, cmd.Stderr = out, out
	return s.startAndWait(cmd, "ejabberd", 45*time.Second, func() string { return tailFile(outPath, 3000) })
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// haltEjabberd: SIGTERM to beam alone (OTP runs init:stop(), Mnesia closes its
// files); its helper processes (erl_child_setup, inet_gethost) leave with it. What
// is left after the wait, or anything in the group afterwards, gets SIGKILL.
func (s *Server) haltEjabberd() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.stopped = true
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	pid := cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
	// Stragglers in the process group, if any (normally none).
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// registerEjabberd creates an account through mod_http_api on loopback.
func (s *Server) registerEjabberd(user, password string) error {
	body, _ := json.Marshal(map[string]string{"user": user, "host": s.Domain, "password": password})
	client := s.httpClient(10 * time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Post(s.HTTPURL()+"/api/register", "application/json", bytes.NewReader(body))
		if err == nil {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
			if resp.StatusCode < 500 {
				return fmt.Errorf("testserver: register %s: %w", user, err)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testserver: register %s: %w", user, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sweepStaleEjabberd is sweepStale for ejabberd directories: a directory whose
// owning test binary is gone is removed, and a node still running from it (which
// Pdeathsig should already have killed) is killed first.
func sweepStaleEjabberd() {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), ejabberdDirPrefix) {
			continue
		}
		dir := filepath.Join(os.TempDir(), e.Name())
		owner, err := readPid(filepath.Join(dir, ownerFile))
		if err != nil || alive(owner) {
			continue
		}
		for _, pid := range pidsMentioning(dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = os.RemoveAll(dir)
	}
}

// pidsMentioning lists processes whose command line names dir (beam's -mnesia dir).
func pidsMentioning(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if isProsody(pid, dir) { // "cmdline mentions dir", whatever the server
			pids = append(pids, pid)
		}
	}
	return pids
}
