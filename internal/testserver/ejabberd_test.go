//go:build unix

package testserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/xdg-go/scram"
)

// requireEjabberd gates the ejabberd tests: ejabberd is heavy (2-4 s and ~90 MB a
// server), so plain `go test ./...` skips them. With ROUNDS_EJABBERD=1 a missing
// or broken ejabberd fails the run (StartEjabberdT never skips).
func requireEjabberd(t *testing.T) {
	t.Helper()
	NeedEjabberd(t)
}

// TestEjabberdOffersWhatRoundsNeeds is TestServerOffersWhatRoundsNeeds against
// ejabberd, plus a real XEP-0363 round trip (slot, PUT, GET) on loopback.
func TestEjabberdOffersWhatRoundsNeeds(t *testing.T) {
	requireEjabberd(t)
	start := time.Now()
	s := StartEjabberdT(t, Options{}, "alice")
	t.Logf("ejabberd %s ready with one account in %v", s.Node(), time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if !strings.HasSuffix(s.WSURL(), "/ws") {
		t.Fatalf("WSURL %s: ejabberd serves RFC 7395 on /ws", s.WSURL())
	}
	r, components := proveOffers(t, ctx, s)
	defer r.conn.Close(websocket.StatusNormalClosure, "")
	if info, ok := components["conference."+s.Domain]; !ok || !info.hasFeature("urn:xmpp:mam:2") {
		t.Errorf("MUC service does not offer MAM for rooms")
	}

	// XEP-0363 for real: a slot from upload.DOMAIN, PUT and GET on loopback.
	content := []byte("rounds upload check\n")
	r.send(fmt.Sprintf(`<iq xmlns="jabber:client" type="get" id="u1" to="upload.%s"><request xmlns="urn:xmpp:http:upload:0" filename="check.txt" size="%d" content-type="text/plain"/></iq>`, s.Domain, len(content)))
	f := r.readUntil(`id="u1"`)
	var slot struct {
		Put struct {
			URL     string `xml:"url,attr"`
			Headers []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:",chardata"`
			} `xml:"header"`
		} `xml:"slot>put"`
		Get struct {
			URL string `xml:"url,attr"`
		} `xml:"slot>get"`
	}
	if err := xml.Unmarshal([]byte(f), &slot); err != nil || slot.Put.URL == "" {
		t.Fatalf("upload slot: %v: %s", err, f)
	}
	if !strings.HasPrefix(slot.Put.URL, s.HTTPURL()+"/upload/") {
		t.Errorf("put URL %s is not on the loopback HTTP listener", slot.Put.URL)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, slot.Put.URL, bytes.NewReader(content))
	req.Header.Set("Content-Type", "text/plain")
	for _, h := range slot.Put.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT %s: %s", slot.Put.URL, resp.Status)
	}
	resp, err = http.Get(slot.Get.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, content) {
		t.Fatalf("GET %s: %s %q", slot.Get.URL, resp.Status, got)
	}

	r.send(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`)
	if f := r.readUntil("close"); !strings.Contains(f, "urn:ietf:params:xml:ns:xmpp-framing") {
		t.Fatalf("close: %s", f)
	}
}

// TestEjabberdWSSAndTwoInstances starts two ejabberd nodes side by side (unique
// node names, ports and distribution ports) and proves wss:// on each verifies
// against its own harness certificate, and only with it.
func TestEjabberdWSSAndTwoInstances(t *testing.T) {
	requireEjabberd(t)
	servers := make([]*Server, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			servers[i], errs[i] = StartEjabberd(Options{})
		}(i)
	}
	wg.Wait()
	for i, s := range servers {
		if s != nil {
			t.Cleanup(s.Stop)
		}
		if errs[i] != nil {
			t.Fatalf("ejabberd %d: %v", i, errs[i])
		}
	}
	if servers[0].Node() == servers[1].Node() || servers[0].HTTPPort == servers[1].HTTPPort {
		t.Fatalf("instances share node %s or port %d", servers[0].Node(), servers[0].HTTPPort)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range servers {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: s.TLSConfig()}}
		r := dialRaw(t, ctx, s.WSSURL(), client)
		r.open(s.Domain)
		r.conn.Close(websocket.StatusNormalClosure, "")
		_, _, err := websocket.Dial(ctx, s.WSSURL(), &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("dial without CA: err = %v, want a certificate error", err)
		}
	}
	// The other instance's certificate must not verify: each has its own.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: servers[0].TLSConfig()}}
	if _, _, err := websocket.Dial(ctx, servers[1].WSSURL(), &websocket.DialOptions{Subprotocols: []string{"xmpp"}, HTTPClient: client}); err == nil {
		t.Fatal("instance 1 verified with instance 0's CA")
	}
}

// TestEjabberdC2SStartTLS is the path slixmpp peers take: TCP c2s, STARTTLS
// required, then SASL.
func TestEjabberdC2SStartTLS(t *testing.T) {
	requireEjabberd(t)
	s := StartEjabberdT(t, Options{})
	c, err := net.DialTimeout("tcp", s.C2SAddr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	header := `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='` + s.Domain + `' version='1.0'>`
	fmt.Fprint(c, header)
	feats := readStreamUntil(t, c, "</stream:features>")
	if !strings.Contains(feats, "urn:ietf:params:xml:ns:xmpp-tls") || !strings.Contains(feats, "<required/>") {
		t.Fatalf("c2s features do not require STARTTLS: %s", feats)
	}
	fmt.Fprint(c, `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
	readStreamUntil(t, c, "<proceed")
	tc := tls.Client(c, s.TLSConfig())
	if err := tc.Handshake(); err != nil {
		t.Fatalf("STARTTLS handshake against the harness CA: %v", err)
	}
	fmt.Fprint(tc, header)
	feats = readStreamUntil(t, tc, "</stream:features>")
	if !strings.Contains(feats, "SCRAM-SHA-1") {
		t.Fatalf("no SCRAM after STARTTLS: %s", feats)
	}
}

func readStreamUntil(t *testing.T, c net.Conn, want string) string {
	t.Helper()
	var buf []byte
	tmp := make([]byte, 4096)
	for !strings.Contains(string(buf), want) {
		n, err := c.Read(tmp)
		if err != nil {
			t.Fatalf("read %q: %v (so far %s)", want, err, buf)
		}
		buf = append(buf, tmp[:n]...)
	}
	return string(buf)
}

// TestEjabberdRestartKeepsAccountsAndStopCleansUp: SCRAM-SHA-256 storage, an
// account survives Restart, a real SCRAM-SHA-256 exchange succeeds, ejabberdctl
// reaches the node, and Stop leaves no process, port or directory behind.
func TestEjabberdRestartKeepsAccountsAndStopCleansUp(t *testing.T) {
	requireEjabberd(t)
	t0 := time.Now()
	s, err := StartEjabberd(Options{SCRAMSHA256: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("start %v", time.Since(t0).Round(time.Millisecond))
	defer s.Stop()
	t0 = time.Now()
	if err := s.CreateAccount("bob", Password); err != nil {
		t.Fatal(err)
	}
	t.Logf("CreateAccount %v", time.Since(t0).Round(time.Millisecond))
	if err := s.CreateAccount("bob", Password); err == nil {
		t.Error("registering bob twice succeeded")
	}
	t0 = time.Now()
	if err := s.Restart(); err != nil {
		t.Fatalf("restart: %v\n%s", err, s.tailLog())
	}
	t.Logf("restart %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	out, err := s.EjabberdCtl("registered_users", s.Domain)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ejabberdctl %v", time.Since(t0).Round(time.Millisecond))
	if !strings.Contains(out, "bob") {
		t.Fatalf("registered_users after restart: %q", out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r := dialRaw(t, ctx, s.WSURL(), nil)
	var pre features
	if err := xml.Unmarshal([]byte(r.open(s.Domain)), &pre); err != nil {
		t.Fatal(err)
	}
	if !contains(pre.Mechanisms, "SCRAM-SHA-256") {
		t.Fatalf("SCRAMSHA256 server offers %v", pre.Mechanisms)
	}
	scramLogin(t, r, "bob", Password)
	r.conn.Close(websocket.StatusNormalClosure, "")

	dir, pid, distPort := s.Dir, s.cmd.Process.Pid, s.ej.distPort
	t0 = time.Now()
	s.Stop()
	t.Logf("stop %v", time.Since(t0).Round(time.Millisecond))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Stop left %s behind (err %v)", dir, err)
	}
	if alive(pid) {
		t.Fatalf("beam %d still alive after Stop", pid)
	}
	if pids := pidsMentioning(dir); len(pids) > 0 {
		t.Fatalf("processes still name %s after Stop: %v", dir, pids)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(distPort), time.Second); err == nil {
		c.Close()
		t.Fatalf("distribution port %d still open after Stop", distPort)
	}
	s.Stop() // twice is fine
}

func scramLogin(t *testing.T, r *rawStream, user, password string) {
	t.Helper()
	client, err := scram.SHA256.NewClient(user, password, "")
	if err != nil {
		t.Fatal(err)
	}
	conv := client.NewConversation()
	first, err := conv.Step("")
	if err != nil {
		t.Fatal(err)
	}
	r.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="SCRAM-SHA-256">` + base64.StdEncoding.EncodeToString([]byte(first)) + `</auth>`)
	payload := func(frame, elem string) string {
		var v struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		}
		if err := xml.Unmarshal([]byte(frame), &v); err != nil || v.XMLName.Local != elem {
			t.Fatalf("want <%s>, got %s", elem, frame)
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v.Text))
		if err != nil {
			t.Fatalf("%s payload: %v", elem, err)
		}
		return string(b)
	}
	final, err := conv.Step(payload(r.read(), "challenge"))
	if err != nil {
		t.Fatal(err)
	}
	r.send(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">` + base64.StdEncoding.EncodeToString([]byte(final)) + `</response>`)
	if _, err := conv.Step(payload(r.read(), "success")); err != nil || !conv.Valid() {
		t.Fatalf("server signature: %v", err)
	}
}

// TestEjabberdDiesWithTestBinary proves the reason ejabberd is not run through
// `ejabberdctl foreground`: when the test binary is SIGKILLed, Pdeathsig takes
// beam down with it, and the next StartEjabberd sweeps the directory.
func TestEjabberdDiesWithTestBinary(t *testing.T) {
	if os.Getenv("ROUNDS_EJABBERD_CHILD") == "1" {
		s, err := StartEjabberd(Options{})
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Printf("READY %s %d\n", s.Dir, s.cmd.Process.Pid)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	requireEjabberd(t)
	child := exec.Command(os.Args[0], "-test.run=^TestEjabberdDiesWithTestBinary$", "-test.count=1")
	child.Env = append(os.Environ(), "ROUNDS_EJABBERD_CHILD=1")
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var dir string
	var beam int
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "READY" {
			dir = f[1]
			beam, _ = strconv.Atoi(f[2])
			break
		} else if len(f) > 0 && f[0] == "ERR" {
			_ = child.Process.Kill()
			_ = child.Wait()
			t.Fatalf("child: %s", sc.Text())
		}
	}
	if dir == "" {
		_ = child.Process.Kill()
		_ = child.Wait()
		t.Fatal("child never reported READY")
	}
	defer os.RemoveAll(dir)
	_ = child.Process.Signal(syscall.SIGKILL)
	_ = child.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for running(beam) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(beam, syscall.SIGKILL)
			t.Fatalf("beam %d outlived its SIGKILLed test binary", beam)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sweepStaleEjabberd()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("sweep left %s behind", dir)
	}
}

// running is alive minus zombies: an orphaned beam is reaped by whatever init the
// machine (or container) has, maybe late.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return alive(pid)
	}
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

// TestEjabberdSQLArchivesInSQLite: with Options.SQL the archive is in the
// SQLite file the harness made from ejabberd's schema (not Mnesia): a
// message to a user lands as a row of its archive table.
func TestEjabberdSQLArchivesInSQLite(t *testing.T) {
	requireEjabberd(t)
	s := StartEjabberdT(t, Options{SQL: true, NoOffline: true}, "alice", "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := dialRaw(t, ctx, s.WSURL(), nil)
	r.open(s.Domain)
	r.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		base64.StdEncoding.EncodeToString([]byte("\x00alice\x00"+Password)) + `</auth>`)
	if f := r.read(); !strings.Contains(f, "<success") {
		t.Fatalf("auth: %s", f)
	}
	r.open(s.Domain)
	r.send(`<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	r.readUntil(`id="b1"`)
	r.send(`<message xmlns="jabber:client" type="chat" to="` + s.JID("bob") + `"><body>archived in sql</body></message>`)
	var rows string
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := exec.Command("sqlite3", s.sqlitePath(), "select count(*) from archive where username = 'bob' and txt = 'archived in sql'").CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3: %v: %s", err, out)
		}
		rows = strings.TrimSpace(string(out))
		if rows == "1" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if rows != "1" {
		t.Fatalf("bob's archive in SQLite holds %s rows, want 1\n%s", rows, s.tailLog())
	}
}
