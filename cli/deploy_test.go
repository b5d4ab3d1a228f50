//go:build linux

package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// The deployment tests play the hospital admin of docs/ADMIN.md: generate the
// configuration with `rounds admin server-config`, give the server
// certificates from the hospital's CA for the names the generator lists,
// start the real server from exactly that file (not the test harness's),
// create accounts the documented way, and use Rounds' headless tools against
// it. The domain is "localhost" because it is the one name that resolves on
// every machine without touching DNS, so discovery (host-meta on
// https://localhost/, port 443) runs for real.

// deployedServer is a server started from a generated configuration.
type deployedServer struct {
	dir    string // the generated files, data, logs
	cfg    string // the configuration file as generated
	caFile string // the hospital CA clients are given with --ca-file
	roots  *x509.CertPool
	domain string
	wss    string // what host-meta names
	// server is given to every command as --server when the domain does not
	// resolve (it is not "localhost"); "" means discovery from the domain.
	server string
	kind   string
	// nginxLog is the reverse proxy's access log (behind a proxy).
	nginxLog string
	httpPort int // the server's plain HTTP port (Prosody)
	cmd      *exec.Cmd
	output   bytes.Buffer
	exited   chan struct{}
	logFile  string
}

// hospitalCA makes a CA and, for each name, a certificate it signed, written
// as NAME.crt and NAME.key into dir (Prosody's layout) and NAME.pem (cert
// and key, ejabberd's). It returns the CA's PEM file.
func hospitalCA(t *testing.T, dir string, names ...string) (string, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Hospital test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(60 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	caFile := filepath.Join(dir, "hospital-ca.crt")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(60 * 24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			DNSNames: []string{name}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		k := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
		for file, data := range map[string][]byte{name + ".crt": crt, name + ".key": k, name + ".pem": append(append([]byte{}, crt...), k...)} {
			if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return caFile, pool
}

// freeLoopbackPorts returns n free TCP ports on 127.0.0.1.
func freeLoopbackPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// needPort443 takes port 443 on loopback for the test: host-meta is only
// ever fetched from port 443. Test runs on one machine (two checkouts, two
// `go test` runs) take turns through a lock file; the test fails when the
// port stays taken by something else.
func needPort443(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "rounds-port443.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			f.Close()
			t.Fatal("port 443: another test run held the lock for 5 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Cleanups run last-in first-out: this one, registered first, runs after
	// the server and the proxy have stopped.
	t.Cleanup(func() { f.Close() })
	for {
		l, err := net.Listen("tcp", "127.0.0.1:443")
		if err == nil {
			l.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port 443 on loopback is needed for host-meta discovery (run as root, nothing else on 443): %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// deployProsody generates a Prosody configuration with extra generator
// flags, starts Prosody from it and registers the accounts with prosodyctl.
func deployProsody(t *testing.T, extra []string, mutate func(string) string, accounts ...string) *deployedServer {
	t.Helper()
	if _, err := exec.LookPath("prosody"); err != nil {
		t.Fatal("prosody is not installed (scripts/install-deps.sh)")
	}
	dir, err := os.MkdirTemp("", "rounds-deploy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"certs", "data", "log", "run", "well-known", "conf"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ports := freeLoopbackPorts(t, 2)
	args := []string{"admin", "server-config", "--server", "prosody", "--domain", "localhost",
		"--listen", "127.0.0.1", "--http-port", strconv.Itoa(ports[0]), "--c2s-port", strconv.Itoa(ports[1]),
		"--data-dir", filepath.Join(dir, "data"), "--cert-dir", filepath.Join(dir, "certs"),
		"--log-dir", filepath.Join(dir, "log"), "--run-dir", filepath.Join(dir, "run"),
		"--www-dir", filepath.Join(dir, "well-known"), "--run-as-root", "--write", filepath.Join(dir, "conf")}
	args = append(args, extra...)
	if contains(extra, "--behind-proxy") {
		// The proxy's certificates are the hospital CA's, and it listens on
		// loopback only.
		args = append(args, "--proxy-cert-dir", filepath.Join(dir, "certs"), "--proxy-listen", "127.0.0.1")
	}
	code, out, _ := runCLI(t, "", args...)
	if code != ExitOK {
		t.Fatalf("server-config: exit %d", code)
	}
	d := &deployedServer{dir: dir, cfg: filepath.Join(dir, "conf", "prosody.cfg.lua"), domain: "localhost", kind: "prosody",
		logFile: filepath.Join(dir, "log", "prosody.log"), httpPort: ports[0]}
	for i, a := range extra {
		if a == "--domain" && i+1 < len(extra) {
			d.domain = extra[i+1]
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if w, ok := strings.CutPrefix(line, "WebSocket: "); ok {
			d.wss = w
		}
		if names, ok := strings.CutPrefix(line, "certificates needed for: "); ok {
			d.caFile, d.roots = hospitalCA(t, filepath.Join(dir, "certs"), strings.Split(names, ", ")...)
		}
	}
	if d.wss == "" || d.caFile == "" {
		t.Fatalf("server-config did not say the WebSocket URL and the certificate names: %q", out)
	}
	if mutate != nil {
		cfg, err := os.ReadFile(d.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(d.cfg, []byte(mutate(string(cfg))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The documented step: host-meta into the folder served as /.well-known/.
	hm, err := os.ReadFile(filepath.Join(dir, "conf", "host-meta"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "well-known", "host-meta"), hm, 0o644); err != nil {
		t.Fatal(err)
	}
	if contains(extra, "--behind-proxy") {
		d.nginx(t, filepath.Join(dir, "conf", nginxFile))
	}
	d.start(t, exec.Command("prosody", "--config", d.cfg, "-F"))
	for _, a := range accounts {
		d.prosodyctl(t, "register", a, d.domain, "correct horse battery staple")
	}
	return d
}

func (d *deployedServer) prosodyctl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("prosodyctl", append([]string{"--config", d.cfg}, args...)...)
	cmd.Dir = d.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("prosodyctl %v: %v: %s", args, err, out)
	}
	return string(out)
}

// start runs the server in its own process group and waits until the
// WebSocket URL it is configured for answers over verified TLS.
func (d *deployedServer) start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = &d.output, &d.output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.cmd, d.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(d.logFile)
			t.Logf("%s output:\n%s\nlog:\n%s", d.kind, d.output.String(), log)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-d.exited
		}
	})
	probe := "https" + strings.TrimPrefix(d.wss, "wss")
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: d.roots}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-d.exited:
			t.Fatalf("%s exited during start", d.kind)
		default:
		}
		resp, err := hc.Get(probe)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("GET %s: %s", probe, resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v", d.kind, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// accountArgs signs in as user with a secret file and the hospital CA, and
// no --server: the endpoint is discovered from the domain as on a phone.
func (d *deployedServer) accountArgs(t *testing.T, user, state string) []string {
	args := []string{"--account", user + "@" + d.domain, "--secret-file", secretFile(t, "correct horse battery staple", 0o600),
		"--ca-file", d.caFile, "--state-dir", state, "--connect-timeout", "30s"}
	if d.server != "" {
		args = append(args, "--server", d.server)
	}
	return args
}

// TestDeployProsodyDirectTLS: Prosody terminating TLS itself on 443 from the
// generated configuration. host-meta is discovered, a bot pages a colleague
// who receives it, and IT publishes the policy.
func TestDeployProsodyDirectTLS(t *testing.T) {
	needPort443(t)
	d := deployProsody(t, []string{"--https-port", "443"}, nil, "it.admin", "lab.bot", "dr.osei", "rounds.check")
	if d.wss != "wss://localhost/xmpp-websocket" {
		t.Fatalf("WebSocket %q", d.wss)
	}
	doc := pageThrough(t, d)
	botJoinsWard(t, d, doc, func() {
		d.prosodyctl(t, "shell", documentedCommand(t, "prosodyctl shell", "hospital.example", "localhost")[2])
	})
}

// botJoinsWard: a bot posting to a members-only ward room is refused
// (registration-required, exit 7) until grant makes it a member with
// docs/ADMIN.md's command; then it posts (issue 19, gap 5).
func botJoinsWard(t *testing.T, d *deployedServer, owner *peer, grant func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := owner.session.CreateRoom(ctx, "ward4@conference."+d.domain, "dr.osei", "Ward 4", nil); err != nil {
		t.Fatal(err)
	}
	send := append([]string{"send"}, d.accountArgs(t, "lab.bot", t.TempDir())...)
	send = append(send, "--room", "ward4@conference."+d.domain)
	if code, _, errOut := runCLI(t, "Ward 4: new admission", send...); code != ExitRefused || !strings.Contains(errOut, "registration-required") {
		t.Fatalf("bot before membership: exit %d, %s", code, errOut)
	}
	grant()
	if code, out, errOut := runCLI(t, "Ward 4: new admission", send...); code != ExitOK || !strings.HasPrefix(out, "sent ") {
		t.Fatalf("bot after membership: exit %d, %q, %s", code, out, errOut)
	}
}

// pageThrough walks docs/ADMIN.md's last steps: IT publishes the sample
// policy and rota (generated for the domain, starting this hour), a
// colleague signs in over the discovered endpoint, the lab bot pages the role
// (which the sample resolves to dr.osei now) with --wait delivered, and the
// server check finds nothing to fix.
func pageThrough(t *testing.T, d *deployedServer) *peer {
	t.Helper()
	samples := t.TempDir()
	if code, _, _ := runCLI(t, "", "admin", "sample", "--domain", d.domain, "--write", samples); code != ExitOK {
		t.Fatalf("sample: exit %d", code)
	}
	admin := d.accountArgs(t, "it.admin", t.TempDir())
	if code, _, _ := runCLI(t, "", append(append([]string{"admin", "publish-policy"}, admin...), filepath.Join(samples, "policy.xml"))...); code != ExitOK {
		t.Fatalf("publish-policy: exit %d", code)
	}
	if code, _, errOut := runCLI(t, "", append(append([]string{"admin", "publish-oncall"}, admin...), filepath.Join(samples, "oncall.csv"))...); code != ExitOK || strings.Contains(errOut, "nobody holds") {
		t.Fatalf("publish-oncall: exit %d, %s", code, errOut)
	}
	endpoint := d.server
	if endpoint == "" {
		var err error
		endpoint, err = xmpp.DiscoverWebSocket(context.Background(),
			&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: d.roots}}}, d.domain)
		if err != nil || endpoint != d.wss {
			t.Fatalf("host-meta: %q, %v; want %s", endpoint, err, d.wss)
		}
	}
	doc := startPeerAt(t, xmpp.Config{URL: endpoint, JID: "dr.osei@" + d.domain, Resource: "phone",
		TLSConfig: &tls.Config{RootCAs: d.roots}, Credentials: xmpp.Credentials{Password: "correct horse battery staple"}}, nil)
	args := append([]string{"send"}, d.accountArgs(t, "lab.bot", t.TempDir())...)
	args = append(args, "--role", "Cardiology on call", "--wait", "delivered", "--timeout", "60s")
	if code, out, _ := runCLI(t, "K+ 6.9 mmol/L, bed 4", args...); code != ExitOK || !strings.HasPrefix(out, "delivered dr.osei@"+d.domain) {
		t.Fatalf("send: exit %d, %q", code, out)
	}
	doc.waitFor("the page", func() bool { return len(doc.messages()) == 1 })
	if m := doc.messages()[0]; m.Body != "K+ 6.9 mmol/L, bed 4" || m.Direction != securestore.Incoming {
		t.Fatalf("received %+v", m)
	}
	check := append([]string{"admin", "check"}, d.accountArgs(t, "rounds.check", t.TempDir())...)
	code, out, _ := runCLI(t, "", check...)
	warnings := strings.Count(out, "warn  ")
	if d.server != "" {
		// hospital.example does not resolve here: host-meta cannot be
		// fetched, which the check reports as the one warning.
		warnings -= strings.Count(out, "warn  host-meta          no WebSocket endpoint found at https://"+d.domain+"/")
	}
	if code != ExitOK || strings.Contains(out, "FAIL") || warnings != 0 || !strings.Contains(out, d.domain+" is ready for Rounds") {
		t.Fatalf("check: exit %d:\n%s", code, out)
	}
	hostMeta := "names " + d.wss
	if d.server != "" {
		hostMeta = "staff would have to type " + d.wss
	}
	ws, _ := url.Parse(d.wss)
	for _, want := range []string{hostMeta, "SCRAM-SHA-256", "ok    registration", "archive pages of 250", "came back through https://" + ws.Host + "/",
		"stays on the upload service until its expiry: the server refuses deletes",
		"members-only, non-anonymous, persistent, hidden and archived", "policy version 1", "Cardiology on call: dr.osei@" + d.domain,
		"ordinary users may not create nodes on pubsub." + d.domain} {
		if !strings.Contains(out, want) {
			t.Errorf("check does not say %q", want)
		}
	}
	return doc
}

// nginx is the hospital's TLS-terminating reverse proxy: a real nginx
// started from exactly the server block `admin server-config --behind-proxy
// --write` wrote (conf), which docs/ADMIN.md quotes. The test gives it only
// what a Debian nginx.conf around conf.d/ would: its own prefix, pid, logs and
// temporary folders in a temporary directory, no system service.
func (d *deployedServer) nginx(t *testing.T, conf string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/nginx"); e != nil {
			t.Fatal("nginx is not installed (scripts/install-deps.sh)")
		}
		bin = "/usr/sbin/nginx"
	}
	dir := t.TempDir()
	d.nginxLog = filepath.Join(dir, "access.log")
	main := fmt.Sprintf(`daemon off;
user root;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 128; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[2]s;
}
`, dir, conf)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log")).CombinedOutput(); err != nil {
		gen, _ := os.ReadFile(conf)
		t.Fatalf("nginx -t refuses the generated block: %v\n%s\n%s", err, out, gen)
	}
	cmd := exec.Command(bin, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		if t.Failed() {
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			access, _ := os.ReadFile(d.nginxLog)
			t.Logf("nginx output:\n%s\nerror.log:\n%s\naccess.log:\n%s", output.String(), errLog, access)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:443", time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("nginx exited during start: %s", output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx not listening on 127.0.0.1:443: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// throughNginx checks nginx's access log: every way a device uses the
// server went through the generated block, not around it.
func (d *deployedServer) throughNginx(t *testing.T, ws string) {
	t.Helper()
	data, err := os.ReadFile(d.nginxLog)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	for _, want := range []string{
		`"GET /.well-known/host-meta HTTP/1.1" 200`, // discovery
		`"GET ` + ws + ` HTTP/1.1" 101`,             // the WebSocket, signed in
		`"PUT /`, `"GET /`,                          // the check's upload, below
	} {
		if !strings.Contains(log, want) {
			t.Errorf("nginx access log lacks %q:\n%s", want, log)
		}
	}
	var put, get bool
	for _, line := range strings.Split(log, "\n") {
		put = put || strings.Contains(line, `"PUT /`) && (strings.Contains(line, `" 201 `) || strings.Contains(line, `" 200 `))
		get = get || strings.Contains(line, `"GET /`) && strings.Contains(line, `rounds-check.txt`) && strings.Contains(line, `" 200 `)
	}
	if !put || !get {
		t.Errorf("nginx did not carry the upload's PUT (%v) and GET (%v):\n%s", put, get, log)
	}
}

// TestDeployProsodyPublicHostIsNotTheDomain: issue 19's first gap. The
// XMPP domain is hospital.example while clients reach Prosody (terminating
// TLS) as localhost, a name with no virtual host of its own: the WebSocket,
// uploads and the check all work through the generated https_ssl and
// http_default_host, with certificates for exactly the names the generator
// listed. (hospital.example does not resolve here, so commands get --server.)
func TestDeployProsodyPublicHostIsNotTheDomain(t *testing.T) {
	needPort443(t)
	d := deployProsody(t, []string{"--domain", "hospital.example", "--public-host", "localhost", "--https-port", "443"}, nil,
		"it.admin", "lab.bot", "dr.osei", "rounds.check")
	d.server = d.wss
	if d.wss != "wss://localhost/xmpp-websocket" {
		t.Fatalf("WebSocket %q", d.wss)
	}
	pageThrough(t, d)
}

// TestDeployProsodyBehindProxy: the common hospital shape. A reverse proxy
// terminates TLS on 443 and forwards plain HTTP to Prosody on loopback; the
// generated configuration trusts it (consider_websocket_secure,
// trusted_proxies) and names the public URL for uploads.
func TestDeployProsodyBehindProxy(t *testing.T) {
	needPort443(t)
	d := deployProsody(t, []string{"--behind-proxy", "--upload-limit-mb", "2"}, nil, "it.admin", "lab.bot", "dr.osei", "rounds.check")
	if d.wss != "wss://localhost/xmpp-websocket" {
		t.Fatalf("WebSocket %q", d.wss)
	}
	doc := pageThrough(t, d)
	d.throughNginx(t, "/xmpp-websocket")

	// The largest attachment the server takes passes the proxy's body
	// limit (a photo refused with 413 by the proxy is a go-live surprise).
	largest := make([]byte, 2<<20-16) // encrypted: exactly the 2 MiB limit
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, _, err := doc.session.Upload(ctx, "it.admin@localhost", bytes.NewReader(largest), "scan.jpg", "image/jpeg", int64(len(largest)), nil); err != nil {
		t.Fatalf("the largest attachment through nginx: %v", err)
	}

	// Around the proxy, Prosody's plain WebSocket is not secure: without the
	// proxy's X-Forwarded-Proto there is no sign-in (consider_websocket_secure
	// would have let anyone who reaches the port sign in in clear).
	plain := append([]string{"send"}, d.accountArgs(t, "lab.bot", t.TempDir())...)
	plain = append(plain, "--server", "ws://127.0.0.1:"+strconv.Itoa(d.httpPort)+"/xmpp-websocket", "--connect-timeout", "5s", "--to", "dr.osei@localhost")
	if code, out, errOut := runCLI(t, "plain", plain...); code == ExitOK || !strings.Contains(errOut, "No stream features to proceed with") {
		t.Fatalf("plain HTTP around the proxy: exit %d, %q, %s", code, out, errOut)
	}
}

// TestCheckMisconfiguredProsody: the generated configuration with the
// mistakes issue 19 found (archive pages capped at Prosody's default 50, room
// defaults open and anonymous, upload URLs on a name nobody resolves, no
// stream management) and nothing published. The check fails each with its
// fix and exits 1; a wrong password exits 3; an endpoint whose name the
// certificate does not cover exits 4 naming TLS.
func TestCheckMisconfiguredProsody(t *testing.T) {
	needPort443(t)
	d := deployProsody(t, []string{"--https-port", "443"}, func(cfg string) string {
		return strings.NewReplacer(
			"max_archive_query_results = 250", "",
			"muc_room_default_members_only = true", "muc_room_default_members_only = false",
			"muc_room_default_public_jids = true", "muc_room_default_public_jids = false",
			`http_external_url = "https://localhost/"`+"\n\thttp_file_share", `http_external_url = "https://upload.localhost/"`+"\n\thttp_file_share",
			`"smacks";`, "",
			"allow_registration = false", "allow_registration = true",
			`"admin_shell";`, `"admin_shell"; "register";`,
		).Replace(cfg)
	}, "rounds.check")
	check := append([]string{"admin", "check"}, d.accountArgs(t, "rounds.check", t.TempDir())...)
	code, out, errOut := runCLI(t, "", check...)
	if code != ExitFailure || !strings.Contains(errOut, "not ready for Rounds") {
		t.Fatalf("check: exit %d, %s", code, errOut)
	}
	// The failed upload's error names the host, never the slot URL: its
	// path is the upload's credential on ejabberd (and names the file).
	if strings.Contains(out, "rounds-check.txt") || strings.Contains(out, "/file_share/") {
		t.Errorf("the check prints the upload slot's URL:\n%s", out)
	}
	for _, want := range []string{
		"FAIL  stream management  XEP-0198 is not offered",
		"FAIL  registration       the server offers in-band registration (XEP-0077)", "fix: accounts are made by IT",
		"FAIL  archive            the server returns at most 50 messages per archive page",
		"fix: Prosody: max_archive_query_results = 250",
		"FAIL  upload",
		"https://upload.localhost/",
		"FAIL  rooms", "open to anyone on the server (muc_room_default_members_only = true", "anonymous (muc_room_default_public_jids = true",
		"FAIL  policy", "FAIL  on-call",
		"ok    host-meta", "ok    tls", "ok    sign-in",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check does not say %q", want)
		}
	}

	wrong := append([]string{"admin", "check"}, d.accountArgs(t, "rounds.check", t.TempDir())...)
	wrong[5] = secretFile(t, "not the password", 0o600)
	if code, _, errOut := runCLI(t, "", wrong...); code != ExitCredentials || !strings.Contains(errOut, "refused the credentials") {
		t.Fatalf("wrong password: exit %d, %s", code, errOut)
	}
	byIP := append(check, "--server", "wss://127.0.0.1/xmpp-websocket")
	if code, out, _ := runCLI(t, "", byIP...); code != ExitUnreachable || !strings.Contains(out, "FAIL  tls                127.0.0.1:") {
		t.Fatalf("endpoint by a name the certificate lacks: exit %d:\n%s", code, out)
	}
}

// TestDeployEjabberdDirectTLS: ejabberd terminating TLS itself from the
// generated configuration. ejabberd runs as its own user and cannot take
// port 443, so the endpoint is on another port and commands get --server
// (host-meta is then the one warning, as on a server whose web site does not
// serve it).
func TestDeployEjabberdDirectTLS(t *testing.T) {
	testserver.NeedEjabberd(t)
	needPort443(t) // nothing else may answer host-meta for localhost meanwhile
	https := freeLoopbackPorts(t, 1)[0]
	d := &deployedServer{domain: "localhost", kind: "ejabberd"}
	srv, err := testserver.StartEjabberd(testserver.Options{Domain: "localhost", Render: func(s *testserver.Server) (string, error) {
		d.dir = s.Dir
		code, out, _ := runCLI(t, "", "admin", "server-config", "--server", "ejabberd", "--domain", "localhost",
			"--listen", "127.0.0.1", "--https-port", strconv.Itoa(https), "--http-port", strconv.Itoa(s.HTTPPort), "--c2s-port", strconv.Itoa(s.C2SPort),
			"--data-dir", s.Dir, "--cert-dir", filepath.Join(s.Dir, "certs"))
		if code != ExitOK {
			return "", fmt.Errorf("server-config: exit %d", code)
		}
		d.caFile, d.roots = hospitalCA(t, filepath.Join(s.Dir, "certs"), "localhost")
		return out, nil
	}})
	if err != nil {
		t.Fatalf("ejabberd from the generated configuration: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ejabberd log:\n%s", srv.Log())
		}
		srv.Stop()
	})
	d.wss = "wss://localhost:" + strconv.Itoa(https) + "/ws"
	d.server = d.wss
	for _, u := range []string{"it.admin", "lab.bot", "dr.osei", "rounds.check"} {
		if out, err := srv.EjabberdCtl("register", u, "localhost", "correct horse battery staple"); err != nil {
			t.Fatalf("ejabberdctl register %s: %v: %s", u, err, out)
		}
	}
	pageThrough(t, d)
}

// TestDeployEjabberdBehindProxy: ejabberd 23.01 started from the generated
// configuration (behind the same reverse proxy shape), accounts created with
// ejabberdctl as docs/ADMIN.md says, then the same walk as on Prosody: the
// sample policy and rota, a page to a role, and a clean server check.
func TestDeployEjabberdBehindProxy(t *testing.T) {
	testserver.NeedEjabberd(t)
	needPort443(t)
	d := &deployedServer{domain: "localhost", kind: "ejabberd"}
	srv, err := testserver.StartEjabberd(testserver.Options{Domain: "localhost", Render: func(s *testserver.Server) (string, error) {
		d.dir = s.Dir
		args := []string{"admin", "server-config", "--server", "ejabberd", "--domain", "localhost", "--behind-proxy",
			"--listen", "127.0.0.1", "--http-port", strconv.Itoa(s.HTTPPort), "--c2s-port", strconv.Itoa(s.C2SPort),
			"--data-dir", s.Dir, "--cert-dir", filepath.Join(s.Dir, "certs"),
			"--proxy-cert-dir", filepath.Join(s.Dir, "certs"), "--proxy-listen", "127.0.0.1"}
		// --force: the harness starts again on new ports when one was taken.
		if code, _, _ := runCLI(t, "", append(args, "--write", filepath.Join(s.Dir, "conf"), "--force")...); code != ExitOK {
			return "", fmt.Errorf("server-config --write: exit %d", code)
		}
		cfg, err := os.ReadFile(filepath.Join(s.Dir, "conf", "ejabberd.yml"))
		d.caFile, d.roots = hospitalCA(t, filepath.Join(s.Dir, "certs"), "localhost")
		// A proxy address and range as --proxy-address writes them (the
		// generator wants a network listener for those, which the test has
		// not): ejabberd refuses a malformed entry at start, so this shows
		// it takes both forms.
		return strings.Replace(string(cfg), "  - \"::1\"\n", "  - \"::1\"\n  - \"10.20.0.9\"\n  - \"10.20.1.0/24\"\n", 1), err
	}})
	if err != nil {
		t.Fatalf("ejabberd from the generated configuration: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ejabberd log:\n%s", srv.Log())
		}
		srv.Stop()
	})
	d.wss = "wss://localhost/ws"
	d.nginx(t, filepath.Join(d.dir, "conf", nginxFile))
	for _, u := range []string{"it.admin", "lab.bot", "dr.osei", "rounds.check"} {
		if out, err := srv.EjabberdCtl("register", u, "localhost", "correct horse battery staple"); err != nil {
			t.Fatalf("ejabberdctl register %s: %v: %s", u, err, out)
		}
	}
	doc := pageThrough(t, d)
	d.throughNginx(t, "/ws")
	retentionRuns(t, srv, filepath.Join(d.dir, "conf", retentionFile), 30)
	botJoinsWard(t, d, doc, func() {
		args := documentedCommand(t, "ejabberdctl set_room_affiliation", "hospital.example", "localhost")[1:]
		if out, err := srv.EjabberdCtl(args...); err != nil {
			t.Fatalf("ejabberdctl %v: %v: %s", args, err, out)
		}
	})
}

// retentionRuns: the cron job `server-config --server ejabberd --write`
// generates for archive expiry is a valid cron.d line for Debian's ejabberd
// user, and its command is one the real ejabberd 23.01 (started from the
// generated configuration) accepts. A misspelt message type is refused by
// the same call, so acceptance means something.
func retentionRuns(t *testing.T, srv *testserver.Server, file string, days int) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var jobs [][]string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			jobs = append(jobs, strings.Fields(line))
		}
	}
	want := [][]string{{"delete_old_mam_messages", "all", strconv.Itoa(days)}, {"delete_old_messages", strconv.Itoa(days)}}
	if len(jobs) != len(want) {
		t.Fatalf("%s: want %d cron.d jobs, got %q", file, len(want), jobs)
	}
	for i, job := range jobs {
		if len(job) < 8 {
			t.Fatalf("%s: %q is not a cron.d job (five time fields, user, command)", file, job)
		}
		if _, err := exec.Command("getent", "passwd", job[5]).Output(); err != nil {
			t.Fatalf("cron job runs as %q, which is no user here: %v", job[5], err)
		}
		if job[6] != "/usr/sbin/ejabberdctl" {
			t.Fatalf("cron job runs %q", job[6])
		}
		if _, err := os.Stat(job[6]); err != nil {
			t.Fatal(err)
		}
		if strings.Join(job[7:], " ") != strings.Join(want[i], " ") {
			t.Fatalf("cron job command %q, want %q", job[7:], want[i])
		}
		if out, err := srv.EjabberdCtl(job[7:]...); err != nil {
			t.Fatalf("ejabberd refuses the generated retention command %v: %v: %s", job[7:], err, out)
		}
	}
	if _, err := srv.EjabberdCtl("delete_old_mam_messages", "everything", strconv.Itoa(days)); err == nil {
		t.Fatal("ejabberdctl accepted a made-up message type: the retention command's acceptance proves nothing")
	}
}

// TestCheckEjabberdOpenNodeCreation: the test harness's ejabberd with its
// access_createnode opened to every local user, the mistake docs/ADMIN.md
// warns about: a user could create the policy node before IT and own it.
// The check, as an ordinary user, says so and fails.
func TestCheckEjabberdOpenNodeCreation(t *testing.T) {
	testserver.NeedEjabberd(t)
	open := func(s *testserver.Server) (string, error) {
		cfg := s.HarnessEjabberdConfig()
		const adminOnly = "  pubsub_createnode:\n    allow: admin\n"
		if !strings.Contains(cfg, adminOnly) {
			return "", fmt.Errorf("the harness's ejabberd.yml no longer has %q", adminOnly)
		}
		return strings.Replace(cfg, adminOnly, "  pubsub_createnode:\n    allow: local\n", 1), nil
	}
	srv := testserver.StartEjabberdT(t, testserver.Options{Render: open}, "rounds.check")
	args := append([]string{"admin", "check"}, botArgs(t, srv, "rounds.check", t.TempDir())...)
	code, out, _ := runCLI(t, "", args...)
	if code != ExitFailure || !strings.Contains(out, "FAIL  pubsub             "+srv.JID("rounds.check")+" could create a node on pubsub."+srv.Domain) ||
		strings.Contains(out, "could not be deleted") {
		t.Fatalf("check: exit %d:\n%s", code, out)
	}
}

// TestDeployProsodyUploadHostCertificate: with Prosody terminating TLS and
// uploads on a name of their own (--upload-host), each name (the public
// host, which is not the domain, and the upload host) is answered with its
// own certificate, and prosodyctl check config (step 5's command) accepts
// the file. A global https_ssl naming the public host's certificate wins
// over the certificate Prosody 0.12 finds for each http_host, so every
// upload URL got the public host's certificate and failed verification on
// every device.
func TestDeployProsodyUploadHostCertificate(t *testing.T) {
	https := freeLoopbackPorts(t, 1)[0]
	d := deployProsody(t, []string{"--domain", "hospital.example", "--public-host", "localhost", "--upload-host", "files.hospital.example",
		"--https-port", strconv.Itoa(https)}, nil)
	if out, err := exec.Command("prosodyctl", "--config", d.cfg, "check", "config").CombinedOutput(); err != nil {
		t.Errorf("prosodyctl check config: %v\n%s", err, out)
	}
	for _, name := range []string{"files.hospital.example", "localhost"} {
		c, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(https), &tls.Config{ServerName: name, RootCAs: d.roots})
		if err != nil {
			t.Errorf("TLS to %s: %v", name, err)
			continue
		}
		c.Close()
	}
}
