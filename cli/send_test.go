//go:build unix

package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestSendWaitsForRead: the bot pages a physician whose phone opens the
// message; `--wait read` exits 0 and names who read it.
func TestSendWaitsForRead(t *testing.T) { testserver.EachServer(t, testSendWaitsForRead) }

func testSendWaitsForRead(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	doc := startPeer(t, srv, "dr.osei", read)
	state := t.TempDir()
	args := append([]string{"send"}, botArgs(t, srv, "lab.bot", state)...)
	args = append(args, "--to", srv.JID("dr.osei"), "--wait", "read", "--timeout", "60s")
	code, out, _ := runCLI(t, "K+ 6.9 mmol/L, bed 4\n", args...)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	if !strings.HasPrefix(out, "read "+srv.JID("dr.osei")+" ") {
		t.Fatalf("stdout %q, want the read state and who", out)
	}
	ms := doc.messages()
	if len(ms) != 1 || ms[0].Body != "K+ 6.9 mmol/L, bed 4" || ms[0].From == "" || !strings.HasPrefix(ms[0].From, srv.JID("lab.bot")) {
		t.Fatalf("physician received %+v", ms)
	}
	// A second page reuses the bot's state (no new slot, no second copy of
	// the first message), and delivered is reached too.
	args[len(args)-3] = "delivered"
	if code, out, _ := runCLI(t, "second", args...); code != ExitOK || !strings.HasPrefix(out, "delivered ") && !strings.HasPrefix(out, "read ") {
		t.Fatalf("second send: exit %d, %q", code, out)
	}
	doc.waitFor("second message", func() bool { return len(doc.messages()) == 2 })
	slots, _ := filepath.Glob(filepath.Join(state, srv.JID("lab.bot"), "slot-*.db"))
	if len(slots) != 1 {
		t.Fatalf("state slots %v, want one reused", slots)
	}
}

// TestSendTimesOut: nobody is online to confirm delivery; the message is on
// the server (sent) and the command exits 5 saying so.
func TestSendTimesOut(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	args := append([]string{"send"}, botArgs(t, srv, "lab.bot", t.TempDir())...)
	args = append(args, "--to", srv.JID("dr.osei"), "--wait", "delivered", "--timeout", "2s")
	code, out, errOut := runCLI(t, "troponin 2300 ng/L", args...)
	if code != ExitTimedOut {
		t.Fatalf("exit %d, want %d", code, ExitTimedOut)
	}
	if !strings.HasPrefix(out, "sent "+srv.JID("dr.osei")) || !strings.Contains(errOut, "timed out waiting for delivered; reached sent") {
		t.Fatalf("stdout %q stderr %q: want the state reached", out, errOut)
	}
	// The physician signs in later and still gets it (offline storage): a
	// timed-out page is not lost, and not sent twice.
	doc := startPeer(t, srv, "dr.osei", nil)
	doc.waitFor("the page", func() bool { return len(doc.messages()) >= 1 })
	if n := len(doc.messages()); n != 1 {
		t.Fatalf("physician got %d copies", n)
	}
}

// TestSendBadCredentials: a wrong password exits 3.
func TestSendBadCredentials(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	code, _, errOut := runCLI(t, "hello", "send", "--account", srv.JID("lab.bot"),
		"--secret-file", secretFile(t, "not the password", 0o600), "--server", srv.WSURL(),
		"--state-dir", t.TempDir(), "--to", srv.JID("dr.osei"))
	if code != ExitCredentials || !strings.Contains(errOut, "refused the credentials") {
		t.Fatalf("exit %d (%s), want %d", code, errOut, ExitCredentials)
	}
}

// TestSendUnreachable: nothing listens at the server's address; exit 4 after
// the connect timeout.
func TestSendUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, _, errOut := runCLI(t, "hello", "send", "--account", "lab.bot@rounds.test",
		"--secret-file", secretFile(t, "pw", 0o600), "--server", "ws://"+addr+"/xmpp-websocket",
		"--state-dir", t.TempDir(), "--connect-timeout", "2s", "--to", "dr.osei@rounds.test")
	if code != ExitUnreachable || !strings.Contains(errOut, "not reachable") {
		t.Fatalf("exit %d (%s), want %d", code, errOut, ExitUnreachable)
	}
}

// TestSecretFileMustBePrivate: a password file others can read is refused
// before anything touches the network; so is a password on argv.
func TestSecretFileMustBePrivate(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		f := secretFile(t, "pw", mode)
		code, _, errOut := runCLI(t, "hello", "send", "--account", "lab.bot@rounds.test", "--secret-file", f,
			"--server", "ws://127.0.0.1:1/x", "--state-dir", t.TempDir(), "--to", "dr.osei@rounds.test")
		if code != ExitUsage || !strings.Contains(errOut, "readable by others") || !strings.Contains(errOut, "chmod 600") {
			t.Fatalf("mode %04o: exit %d (%s)", mode, code, errOut)
		}
	}
	code, _, _ := runCLI(t, "", "send", "--account", "lab.bot@rounds.test", "--password", "pw", "--to", "dr.osei@rounds.test")
	if code != ExitUsage {
		t.Fatalf("--password accepted: exit %d", code)
	}
	empty := secretFile(t, "", 0o600)
	if code, _, errOut := runCLI(t, "hello", "send", "--account", "lab.bot@rounds.test", "--secret-file", empty,
		"--server", "ws://127.0.0.1:1/x", "--to", "dr.osei@rounds.test"); code != ExitUsage || !strings.Contains(errOut, "empty") {
		t.Fatalf("empty secret: exit %d (%s)", code, errOut)
	}
}

// TestSendUsage: every malformed command line exits 2 with a reason.
func TestSendUsage(t *testing.T) {
	base := []string{"send", "--account", "lab.bot@rounds.test", "--secret-file", secretFile(t, "pw", 0o600), "--server", "ws://127.0.0.1:1/x"}
	cases := []struct {
		stdin string
		extra []string
		want  string
	}{
		{"x", nil, "exactly one of --to, --room, --role"},
		{"x", []string{"--to", "a@b", "--room", "r@c"}, "exactly one of"},
		{"x", []string{"--to", "a@b", "--wait", "soon"}, `--wait "soon"`},
		{"x", []string{"--to", "a@b", "--urgency", "high"}, `--urgency "high"`},
		{"  \n", []string{"--to", "a@b"}, "empty message"},
		{"x", []string{"--to", "not-a-jid"}, "want user@domain"},
		{"x", []string{"--to", "a@b", "extra"}, "want 0 argument"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, c.stdin, append(append([]string{}, base...), c.extra...)...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d (%s), want 2 and %q", c.extra, code, errOut, c.want)
		}
	}
	if code, _, _ := runCLI(t, "", "fly"); code != ExitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
}

// TestSendConcurrentRuns: four pages at once from one bot account use four
// state slots (created concurrently) and four XMPP resources; all are read,
// once each. The physician opens them only when all have arrived, so no run
// can end before the others have started: the overlap is certain.
func TestSendConcurrentRuns(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	doc := startPeer(t, srv, "dr.osei", func(p *peer, m securestore.Message) {
		if ms := p.messages(); len(ms) == 4 {
			for _, m := range ms {
				read(p, m)
			}
		}
	})
	state := t.TempDir()
	var wg gosync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		args := append([]string{"send"}, botArgs(t, srv, "lab.bot", state)...)
		args = append(args, "--to", srv.JID("dr.osei"), "--wait", "read", "--timeout", "60s")
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, _ = runCLI(t, "page "+string(rune('A'+i)), args...)
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != ExitOK {
			t.Fatalf("exit codes %v", codes)
		}
	}
	doc.waitFor("all pages", func() bool { return len(doc.messages()) >= 4 })
	if n := len(doc.messages()); n != 4 {
		t.Fatalf("physician got %d messages, want 4", n)
	}
	slots, _ := filepath.Glob(filepath.Join(state, srv.JID("lab.bot"), "slot-*.db"))
	if len(slots) != 4 {
		t.Fatalf("state slots %v, want 4", slots)
	}
}

// TestSendToRoom: the bot joins a care team's room and pages it; the first
// member to read it completes `--wait read`, named on stdout.
func TestSendToRoom(t *testing.T) { testserver.EachServer(t, testSendToRoom) }

func testSendToRoom(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "lab.bot", "nurse.kim")
	nurse := startPeer(t, srv, "nurse.kim", read)
	room := "icu@conference." + srv.Domain
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := nurse.session.CreateRoom(ctx, room, "Kim", "ICU", []string{srv.JID("lab.bot")}); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"send"}, botArgs(t, srv, "lab.bot", t.TempDir())...)
	code, out, _ := runCLI(t, "Bed 7 monitor alarm: VT", append(args, "--room", room, "--wait", "read", "--timeout", "60s")...)
	if code != ExitOK || !strings.HasPrefix(out, "read ") {
		t.Fatalf("exit %d, %q", code, out)
	}
	nurse.waitFor("the page in the room", func() bool {
		for _, m := range nurse.messages() {
			if m.ConversationID == room && m.Body == "Bed 7 monitor alarm: VT" {
				return true
			}
		}
		return false
	})
	if code, _, errOut := runCLI(t, "x", append(args, "--room", room, "--order")...); code != ExitRefused || !strings.Contains(errOut, "not to a room") {
		t.Fatalf("order to a room: exit %d, %s", code, errOut)
	}
}

// TestSendPrivateCA: over wss:// the server's certificate must be trusted:
// with --ca-file naming the hospital's CA the page goes; without it the
// command gives up with exit 4 and says why.
func TestSendPrivateCA(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	base := []string{"send", "--account", srv.JID("lab.bot"), "--secret-file", secretFile(t, testserver.Password, 0o600),
		"--server", srv.WSSURL(), "--state-dir", t.TempDir(), "--to", srv.JID("dr.osei")}
	if code, out, _ := runCLI(t, "hello", append(base, "--ca-file", srv.CertFile())...); code != ExitOK || !strings.HasPrefix(out, "sent ") {
		t.Fatalf("with --ca-file: exit %d, %q", code, out)
	}
	code, _, errOut := runCLI(t, "hello", append(base, "--connect-timeout", "2s")...)
	if code != ExitUnreachable || !strings.Contains(errOut, "certificate") {
		t.Fatalf("without --ca-file: exit %d, %s", code, errOut)
	}
}

// TestEarlierUnsentNotSentLate: a message an earlier run stored but never got
// onto the server (the run was killed) is not sent by the next run; it is
// marked failed in the bot's record. The earlier caller saw a failure and
// owns the retry; a late copy would page the physician twice.
func TestEarlierUnsentNotSentLate(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	doc := startPeer(t, srv, "dr.osei", nil)
	state := t.TempDir()
	dir, err := stateDir(state, srv.JID("lab.bot"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, _, err := app.OpenHeadlessStore(ctx, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old, err := st.Enqueue(securestore.Message{ConversationID: srv.JID("dr.osei"), From: srv.JID("lab.bot"), To: srv.JID("dr.osei"),
		Direction: securestore.Outgoing, Body: "page from a killed run", OriginID: xmpp.NewID(), Timestamp: now, ReceivedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	args := append([]string{"send"}, botArgs(t, srv, "lab.bot", state)...)
	if code, _, _ := runCLI(t, "new page", append(args, "--to", srv.JID("dr.osei"), "--wait", "delivered", "--timeout", "60s")...); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	doc.waitFor("the new page", func() bool { return len(doc.messages()) >= 1 })
	time.Sleep(500 * time.Millisecond) // a late copy would have arrived by now, before the new page's receipt
	if ms := doc.messages(); len(ms) != 1 || ms[0].Body != "new page" {
		t.Fatalf("physician received %d messages: %+v", len(ms), ms)
	}
	st, _, err = app.OpenHeadlessStore(ctx, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := st.Message(old.ID)
	if err != nil || m.Receipt.State != securestore.ReceiptFailed || !strings.Contains(m.Receipt.Reason, "abandoned") {
		t.Fatalf("earlier message: %+v (%v)", m.Receipt, err)
	}
	if left, _ := st.Outbox(); len(left) != 0 {
		t.Fatalf("outbox still holds %d", len(left))
	}
}

// TestSendBounced: a page to an address the server does not know bounces;
// the command exits 7 with the server's reason instead of waiting out the
// timeout.
func TestSendBounced(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot")
	args := append([]string{"send"}, botArgs(t, srv, "lab.bot", t.TempDir())...)
	code, out, errOut := runCLI(t, "K+ 6.9", append(args, "--to", srv.JID("dr.nobody"), "--wait", "delivered", "--timeout", "60s")...)
	if code != ExitRefused || !strings.HasPrefix(out, "failed ") || !strings.Contains(errOut, "could not deliver") {
		t.Fatalf("exit %d, %q, %q", code, out, errOut)
	}
}

// TestSendToMissingRoom: paging a room that does not exist (a typo) is
// refused (exit ExitRefused, the reason on stderr) and creates no room.
func TestSendToMissingRoom(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "nurse.kim")
	room := "icu-tpyo@conference." + srv.Domain
	args := append([]string{"send"}, botArgs(t, srv, "lab.bot", t.TempDir())...)
	code, _, errOut := runCLI(t, "Bed 7 monitor alarm: VT", append(args, "--room", room, "--timeout", "20s")...)
	if code != ExitRefused || !strings.Contains(errOut, "no such room") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// The room still does not exist: creating it now succeeds.
	nurse := startPeer(t, srv, "nurse.kim", read)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := nurse.session.CreateRoom(ctx, room, "Kim", "", nil); err != nil {
		t.Fatalf("the failed send left a room behind: %v", err)
	}
}
