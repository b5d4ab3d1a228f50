//go:build linux

package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fynetest "fyne.io/fyne/v2/test"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/ui"
)

// BenchmarkDesktopMemory100k measures the memory of the app with 100,000
// stored messages (docs/ARCHITECTURE.md, "Targets": RSS ≤ 150 MB). For
// docs/BENCHMARKS.md, run:
//
//	go test ./app/ -run '^$' -bench DesktopMemory100k -benchtime 1x -count 3
//
// The parent signs in once against a real Prosody (so the store holds a real
// account record and SCRAM keys, with the platform's default Argon2id), then
// writes 100k messages over 200 conversations straight into that store in
// batches of 1000. Each figure comes from a fresh child process (this test
// binary re-executed), so nothing of the build phase is counted:
//
//   - core: app.Unlock against the same Prosody, Inbox(""), Messages(busiest,
//     200) and 5 Older pages of 200, wait until the session is Online (signed
//     in, caught up, outbox flushed) and 1 s more (and at least 3 s after
//     the last Older page: app returns the freed heap to the OS 2 s after
//     it, s-since-last-older), runtime.GC(), then VmRSS
//     and VmHWM (rss-MB, hwm-MB, with RssAnon/RssFile and the Go heap in
//     use). Then, as diagnostics: VmRSS after 20 s more idle
//     (rss-idle20s-MB) and after debug.FreeOSMemory. No Fyne.
//   - ui10k: the same, plus Fyne's test driver (software canvas, no GL, no
//     real window): the desktop ui.Shell at 1280×800 with the inbox rows and
//     a 10,000-message conversation (app.MessageRow from the store through
//     Messages + Older) opened in it, drawn once.
func BenchmarkDesktopMemory100k(b *testing.B) {
	if spec := os.Getenv(memChildEnv); spec != "" {
		memChild(b, spec)
		return
	}
	srv := testserver.StartT(b, testserver.Options{}, "nurse")
	dataDir := b.TempDir()
	cfg := app.Config{DataDir: dataDir, Logger: slog.New(slog.DiscardHandler)}
	jid := srv.JID("nurse")
	ctx := context.Background()
	cl, err := app.SignIn(ctx, cfg, jid, testserver.Password, srv.WSURL(), []byte(memPIN))
	if err != nil {
		b.Fatal(err)
	}
	waitOnline(b, cl)
	cl.SignOut()

	t0 := time.Now()
	busiest := fillStore(b, app.StorePath(dataDir, jid))
	b.Logf("store: %d messages in %d conversations written in %v", memMessages, memConvs, time.Since(t0).Round(time.Millisecond))
	if fi, err := os.Stat(app.StorePath(dataDir, jid)); err == nil {
		b.Logf("store file: %.1f MB", float64(fi.Size())/1e6)
	}

	for _, mode := range []string{"core", "ui10k"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := runMemChild(b, memSpec{Mode: mode, DataDir: dataDir, Conv: busiest})
				b.ReportMetric(r.RSS, "rss-MB")
				b.ReportMetric(r.HWM, "hwm-MB")
				b.ReportMetric(r.Anon, "anon-MB")
				b.ReportMetric(r.File, "file-MB")
				b.ReportMetric(r.Store, "store-mmap-MB")
				b.ReportMetric(r.Heap, "goheap-MB")
				b.ReportMetric(r.Settled, "rss-idle20s-MB")
				b.ReportMetric(r.Freed, "rss-after-FreeOSMemory-MB")
				b.ReportMetric(r.FreedFile, "file-after-FreeOSMemory-MB")
				b.ReportMetric(r.Start, "rss-at-start-MB")
				b.ReportMetric(float64(r.Rows), "rows")
				b.ReportMetric(r.SinceOlder, "s-since-last-older")
			}
		})
	}
}

const (
	memChildEnv = "ROUNDS_APP_MEM_CHILD"
	memPIN      = "2468"
	memMessages = 100_000
	memConvs    = 200
	memBatch    = 1000
	memBusiest  = 10_000 // messages in the busiest conversation
)

type memSpec struct {
	Mode    string
	DataDir string
	Conv    string
}

type memResult struct {
	RSS, HWM, Anon, File, Heap, Settled, Freed, FreedFile, Start float64 // MB (10^6 bytes)
	Store                                                        float64 // MB of RssFile that is the store file's mmap
	Rows                                                         int     // message rows held
	SinceOlder                                                   float64 // s from the last older page to the measured moment
}

func waitOnline(b *testing.B, cl *app.Client) {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for cl.Connection().Connectivity != sync.Online {
		if time.Now().After(deadline) {
			b.Fatalf("not online after 60 s: %+v", cl.Connection())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// words make bodies that read like ward traffic, 80–200 characters.
var memWords = strings.Fields(`bed patient review please BP HR SpO2 pain score potassium sodium
lactate ECG obs stable on-call registrar consultant pharmacy porter theatre
discharge step-down ICU ward bloods culture antibiotics IV fluids insulin
dextrose repeat urgent handover morning night family called chest X-ray CT
neuro obs GCS catheter mobilised physio OT plan NBM fasting 2L O2 sats
temp 38.2 ok thanks noted on my way will do done chased results pending`)

func memBody(r *rand.Rand) string {
	n := 80 + r.IntN(121)
	var sb strings.Builder
	fmt.Fprintf(&sb, "Bed %d: ", 1+r.IntN(30))
	for sb.Len() < n {
		sb.WriteString(memWords[r.IntN(len(memWords))])
		sb.WriteByte(' ')
	}
	return strings.TrimSpace(sb.String()[:n])
}

// fillStore writes 100k messages (every 10th to the busiest conversation,
// the rest spread over 199 others) over the last 90 days, in batches of
// 1000, and returns the busiest conversation.
func fillStore(b *testing.B, path string) string {
	b.Helper()
	// NoSync only speeds up building the file; the children open it normally.
	st, err := securestore.Open(path, []byte(memPIN), securestore.Options{NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	acct, err := st.Account()
	if err != nil {
		b.Fatal(err)
	}
	convs := make([]string, memConvs)
	for i := range convs {
		convs[i] = fmt.Sprintf("clinician%03d@rounds.test", i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	end := time.Now().Add(-time.Hour)
	step := 90 * 24 * time.Hour / memMessages
	batch := make([]securestore.Message, 0, memBatch)
	for i := 0; i < memMessages; i++ {
		conv := convs[0]
		if i%(memMessages/memBusiest) != 0 {
			conv = convs[1+r.IntN(memConvs-1)]
		}
		ts := end.Add(-time.Duration(memMessages-i) * step)
		m := securestore.Message{
			ConversationID: conv,
			Body:           memBody(r),
			OriginID:       fmt.Sprintf("%08x-6b1d-4c5e-9a77-%012d", r.Uint32(), i),
			StanzaID:       fmt.Sprintf("mam-%016d", i),
			StanzaIDBy:     acct.JID,
			Timestamp:      ts,
			ReceivedAt:     ts.Add(300 * time.Millisecond),
		}
		if r.IntN(3) == 0 {
			m.Direction = securestore.Outgoing
			m.From, m.To = acct.JID+"/"+acct.Resource, conv
			m.Receipt.State = securestore.ReceiptRead
			for s := securestore.ReceiptQueued; s <= securestore.ReceiptRead; s++ {
				m.Receipt.At[s] = ts.Add(time.Duration(s) * time.Second)
			}
		} else {
			m.Direction = securestore.Incoming
			m.From, m.To = conv+"/phone", acct.JID+"/"+acct.Resource
			if r.IntN(50) == 0 {
				m.Urgency = securestore.UrgencyHigh
			}
		}
		batch = append(batch, m)
		if len(batch) == memBatch {
			if _, err := st.AppendMessages(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return convs[0]
}

func runMemChild(b *testing.B, spec memSpec) memResult {
	b.Helper()
	raw, _ := json.Marshal(spec)
	out, err := os.CreateTemp(b.TempDir(), "mem-*.json")
	if err != nil {
		b.Fatal(err)
	}
	out.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkDesktopMemory100k$", "-test.benchtime=1x", "-test.count=1")
	cmd.Env = append(os.Environ(), memChildEnv+"="+string(raw), "ROUNDS_APP_MEM_OUT="+out.Name())
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Run(); err != nil {
		b.Fatalf("child %s: %v\n%s", spec.Mode, err, logs.String())
	}
	data, err := os.ReadFile(out.Name())
	if err != nil || len(data) == 0 {
		b.Fatalf("child %s wrote no result: %v\n%s", spec.Mode, err, logs.String())
	}
	var r memResult
	if err := json.Unmarshal(data, &r); err != nil {
		b.Fatal(err)
	}
	return r
}

// procStatus reads fields of /proc/self/status in MB (10^6 bytes).
func procStatus(b *testing.B) map[string]float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		fs := strings.Fields(v)
		if !ok || len(fs) != 2 || fs[1] != "kB" {
			continue
		}
		n, err := strconv.ParseFloat(fs[0], 64)
		if err == nil {
			out[k] = n * 1024 / 1e6
		}
	}
	return out
}

// mappedRSS is the resident size in MB of the mappings of files whose name
// ends in suffix (/proc/self/smaps): the part of RssFile that is the store.
func mappedRSS(b *testing.B, suffix string) float64 {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var kb float64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fs := strings.Fields(line)
		if len(fs) >= 5 && strings.Contains(fs[0], "-") && !strings.HasSuffix(fs[0], ":") {
			in = len(fs) >= 6 && strings.HasSuffix(fs[len(fs)-1], suffix)
			continue
		}
		if in && len(fs) == 3 && fs[0] == "Rss:" {
			n, _ := strconv.ParseFloat(fs[1], 64)
			kb += n
		}
	}
	return kb * 1024 / 1e6
}

// memChild is the measured process.
func memChild(b *testing.B, raw string) {
	var spec memSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		b.Fatal(err)
	}
	var res memResult
	res.Start = procStatus(b)["VmRSS"]

	cfg := app.Config{DataDir: spec.DataDir, Logger: slog.New(slog.DiscardHandler)}
	cl, err := app.Unlock(context.Background(), cfg, []byte(memPIN))
	if err != nil {
		b.Fatal(err)
	}
	go func() { // the UI drains Changes; so do we
		for range cl.Changes() {
		}
	}()
	inbox, err := cl.Inbox("")
	if err != nil {
		b.Fatal(err)
	}
	if len(inbox) != memConvs {
		b.Fatalf("inbox has %d rows, want %d", len(inbox), memConvs)
	}
	rows, err := cl.Messages(spec.Conv, 200)
	if err != nil {
		b.Fatal(err)
	}
	want := 6 * 200 // the newest page and 5 older ones
	if spec.Mode == "ui10k" {
		want = memBusiest
	}
	for len(rows) < want {
		older, err := cl.Older(spec.Conv, rows[0].ID, 200)
		if err != nil {
			b.Fatal(err)
		}
		if len(older) == 0 {
			break
		}
		rows = append(older, rows...)
	}
	lastOlder := time.Now()
	if len(rows) != want {
		b.Fatalf("loaded %d rows, want %d", len(rows), want)
	}
	res.Rows = len(rows)

	var keep any
	if spec.Mode == "ui10k" {
		a := fynetest.NewApp()
		defer a.Quit()
		w := fynetest.NewWindow(nil)
		shell := ui.NewShell(nopActions{}, ui.SettingsState{Account: cl.Account(), Presence: "available"})
		shell.Inbox.SetRows(inbox)
		shell.Inbox.SetConnection(cl.Connection())
		w.SetContent(shell.Content())
		w.Resize(fyne.NewSize(1280, 800))
		var info ui.ConversationInfo
		for _, r := range inbox {
			if r.ID == spec.Conv {
				info = ui.ConversationInfo{ID: r.ID, Title: r.Title, Presence: r.Presence, Unread: r.Unread}
			}
		}
		shell.ShowConversation(info, rows, false)
		w.Resize(fyne.NewSize(1280, 801)) // lay out the conversation pane
		w.Resize(fyne.NewSize(1280, 800))
		if img := w.Canvas().Capture(); img.Bounds().Dx() == 0 {
			b.Fatal("nothing drawn")
		}
		if shell.Conversation() == nil {
			b.Fatal("conversation not open")
		}
		keep = []any{shell, w}
	}

	waitOnline(b, cl)
	time.Sleep(time.Second)
	// The user looks at the loaded conversation a few seconds on: past
	// app's historySettle (2 s after the last older page, memory.go), when
	// app hands the heap the load freed back to the OS.
	if d := time.Until(lastOlder.Add(3 * time.Second)); d > 0 {
		time.Sleep(d)
	}
	res.SinceOlder = time.Since(lastOlder).Seconds()
	runtime.GC()
	st := procStatus(b)
	res.RSS, res.HWM, res.Anon, res.File = st["VmRSS"], st["VmHWM"], st["RssAnon"], st["RssFile"]
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.Heap = float64(ms.HeapInuse) / 1e6
	res.Store = mappedRSS(b, "store.db")
	// ROUNDS_APP_MEM_PROFILE=DIR keeps a heap profile of the measured
	// moment (DIR/heap-MODE), for `go tool pprof` (who holds the heap).
	if dir := os.Getenv("ROUNDS_APP_MEM_PROFILE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, "heap-"+spec.Mode))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	// The Go runtime hands freed heap (Argon2id's 64 MiB above all) back to
	// the OS slowly, in the background: what is left after 20 s of idling,
	// and after forcing it, tells the held memory from the not-yet-returned.
	time.Sleep(20 * time.Second)
	res.Settled = procStatus(b)["VmRSS"]
	debug.FreeOSMemory()
	st = procStatus(b)
	res.Freed, res.FreedFile = st["VmRSS"], st["RssFile"]
	runtime.KeepAlive(inbox)
	runtime.KeepAlive(rows)
	runtime.KeepAlive(keep)
	cl.SignOut()

	data, _ := json.Marshal(res)
	if err := os.WriteFile(os.Getenv("ROUNDS_APP_MEM_OUT"), data, 0o600); err != nil {
		b.Fatal(err)
	}
}

// nopActions stands in for the controller: the measurement only draws.
type nopActions struct{ ui.Actions }

func (nopActions) Open(string)                             {}
func (nopActions) Send(string, string) error               { return nil }
func (nopActions) MarkShown(string, securestore.MessageID) {}
func (nopActions) LoadOlder(string, securestore.MessageID) {}
func (nopActions) Reading(string)                          {}
func (nopActions) StartChat(string)                        {}
func (nopActions) SetPresence(string, string) error        { return nil }
