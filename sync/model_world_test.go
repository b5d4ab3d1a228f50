package sync

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/faultproxy"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// The world of the model test: one Prosody, and on it
//   - alice's phone: the Session under test, through a fault proxy, with a
//     clock that can jump and small archive pages; at times it runs as a child
//     process that is SIGKILLed;
//   - alice's desk: her second device (carbons);
//   - bob: a colleague's Session, 1:1 and in the room;
//   - carol: a raw client that sends what the engine must cope with
//     (resends, reorderings, lies);
//   - the room ward@conference, members-only and non-anonymous, in which
//     the phone is "alice" and bob is "bob".
type world struct {
	t      *testing.T
	seed   int64
	srv    *testserver.Server
	proxy  *faultproxy.Proxy
	url    string // the phone's URL, through the proxy
	path   string // the phone's store
	clock  *jumpClock
	room   string
	phone  *device
	desk   *device
	bob    *device
	model  *model
	stepNo int
}

// jumpClock is the phone's wall clock, which can be set forward or back while
// timers keep running in real time (as a monotonic clock does when the wall
// clock jumps). It remembers every offset it had, so a timestamp can be
// judged against the offsets in force while a message was in flight.
type jumpClock struct {
	mu      gosync.Mutex
	offset  time.Duration
	history []clockShift
}

type clockShift struct {
	at     time.Time // real time of the jump
	offset time.Duration
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *jumpClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (c *jumpClock) jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	c.history = append(c.history, clockShift{time.Now(), c.offset})
}

// offsets returns the smallest and largest offset in force at any time in
// [from, to]; the server's own clock (offset 0) is always included, since
// archive and offline timestamps come from it.
func (c *jumpClock) offsets(from, to time.Time) (lo, hi time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := time.Duration(0)
	for _, h := range c.history {
		if h.at.After(from) {
			break
		}
		cur = h.offset
	}
	lo, hi = min(0, cur), max(0, cur)
	for _, h := range c.history {
		if h.at.After(from) && !h.at.After(to) {
			lo, hi = min(lo, h.offset), max(hi, h.offset)
		}
	}
	return lo, hi
}

// model is what must be true, kept apart from the engine: every message the
// schedule sent, where it must end up, and whether it must.
type model struct {
	mu   gosync.Mutex
	msgs []*expected
	by   map[string]*expected // by body (bodies are unique per genuine message)
	// forbidden bodies must never be stored anywhere (forgeries).
	forbidden map[string]string // body -> why
	// placeholders counts the placeholders of unreadable messages that must
	// be stored, by placeholderKey.
	placeholders map[string]int
}

// placeholderKey names the placeholder of an unreadable message: it has no
// body, so it is counted by conversation and sender.
func placeholderKey(conv, sender string) string {
	return "unreadable message from " + sender + " in " + conv
}

func (m *model) expectPlaceholder(conv, sender string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.placeholders == nil {
		m.placeholders = map[string]int{}
	}
	m.placeholders[placeholderKey(conv, sender)]++
}

// expected is one genuine message in the model.
type expected struct {
	body string
	conv string // the phone's conversation (bare JID)
	dir  securestore.Direction
	// from is the true sender's bare JID; nick is the room nick it spoke
	// under ("" for 1:1).
	from, nick string
	sentAt     time.Time // real time just before it was handed to a client
	claimed    time.Time // an honest sender's delay stamp (zero if none)
	// maybe: sent by a process killed before it reported the message stored;
	// it must then be either stored and delivered once, or neither.
	maybe bool
	// toBob: an outgoing 1:1 message, which bob's archive and store must hold
	// exactly once; toRoom: one the room's archive must hold exactly once.
	toBob, toRoom bool
	step          int
	// recalled: its author retracted it; the phone must hold it once, by
	// originID, as a tombstone without its text.
	recalled bool
	originID string
}

func (m *model) add(e *expected) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.by == nil {
		m.by = map[string]*expected{}
	}
	m.msgs = append(m.msgs, e)
	m.by[e.body] = e
}

func (m *model) forbid(body, why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.forbidden == nil {
		m.forbidden = map[string]string{}
	}
	m.forbidden[body] = why
}

func (m *model) snapshot() []*expected {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.msgs)
}

func (m *model) lookup(body string) (*expected, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.by[body], m.forbidden[body]
}

const (
	phoneResource = "phone"
	modelPage     = 5 // the phone's MAM page size: catch-ups take several pages
)

func newWorld(t *testing.T, seed int64) *world {
	srv := testserver.StartT(t, testserver.Options{HibernationSeconds: 3}, "alice", "bob", "carol")
	t.Cleanup(func() {
		// Registered after StartT's cleanup, so it runs before the server's
		// directory is removed: keep the whole server log of a failed seed.
		if t.Failed() {
			name := filepath.Join(os.TempDir(), fmt.Sprintf("rounds-model-seed%d-prosody.log", seed))
			if err := os.WriteFile(name, []byte(srv.Log()), 0o600); err == nil {
				t.Logf("server log: %s", name)
			}
		}
	})
	p, url := proxiedURL(t, srv)
	w := &world{
		t: t, seed: seed, srv: srv, proxy: p, url: url,
		path:  filepath.Join(t.TempDir(), "alice-phone.db"),
		clock: &jumpClock{},
		room:  "ward@conference." + srv.Domain,
		model: &model{},
	}
	w.bob = startDevice(t, srv, "bob", deviceOptions{resource: "bob-ws"})
	w.desk = startDevice(t, srv, "alice", deviceOptions{resource: "desk"})
	w.startPhone()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Made as Rounds makes care-team rooms: members-only, non-anonymous,
	// persistent, archived; alice and carol are members.
	if err := w.bob.session.CreateRoom(ctx, w.room, "bob", "Ward", []string{srv.JID("alice"), srv.JID("carol")}); err != nil {
		t.Fatalf("bob creates the room: %v", err)
	}
	if err := w.phone.session.JoinRoom(ctx, w.room, "alice"); err != nil {
		t.Fatalf("the phone joins the room: %v", err)
	}
	return w
}

func (w *world) startPhone() {
	w.phone = startDevice(w.t, w.srv, "alice", deviceOptions{
		url: w.url, resource: phoneResource, storePath: w.path, clock: w.clock, catchUpPage: modelPage})
}

// dial signs a raw client in (no presence: it receives nothing addressed to
// the bare JID, so it does not take messages away from the Sessions).
func (w *world) dial(user, resource string) *xmpp.Client {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var c *xmpp.Client
	var err error
	for attempt := 0; attempt < 20; attempt++ { // the server may be restarting
		c, err = xmpp.Dial(ctx, xmpp.Config{URL: w.srv.WSURL(), JID: w.srv.JID(user), Resource: resource,
			Credentials: xmpp.Credentials{Password: testserver.Password}})
		if err == nil {
			return c
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.t.Fatalf("%s signs in: %v", user, err)
	return nil
}

// body names a message uniquely: seed, step, index.
func (w *world) body(tag string, i int) string {
	return fmt.Sprintf("s%d-%d-%s-%04d", w.seed, w.stepNo, tag, i)
}

// ---- the checks ----

// violations compares the world with the model and returns what is wrong,
// one line each; empty means every invariant holds.
func (w *world) violations(final bool) []string {
	var v []string
	now := time.Now()
	alice, bob, carol := w.srv.JID("alice"), w.srv.JID("bob"), w.srv.JID("carol")
	phone := w.phone
	for _, d := range []*device{w.phone, w.desk, w.bob} {
		if st := d.session.State(); st.Connectivity != Online {
			v = append(v, fmt.Sprintf("%s/%s is not online (%v, %v)", d.jid, filepath.Base(d.path), st.Connectivity, st.Reason))
		}
	}
	// The phone's store: each genuine message once, nothing else.
	stored := map[string][]securestore.Message{} // body -> copies (any conversation)
	placeholders := map[string]int{}             // placeholderKey -> placeholders stored
	tombstones := map[string]int{}               // conversation/origin-id -> recalled messages stored
	convs, err := phone.store.Conversations()
	if err != nil {
		return append(v, "conversations: "+err.Error())
	}
	for _, c := range convs {
		if c.ID != bob && c.ID != carol && c.ID != w.room {
			v = append(v, fmt.Sprintf("the phone has a conversation with %s, which no step created", c.ID))
		}
		for _, m := range phone.conversation(c.ID) {
			if m.Extra[ExtraUnreadable] != "" {
				placeholders[placeholderKey(m.ConversationID, xmpp.BareJID(m.From))]++
				continue
			}
			if m.Body == "" && m.Extra[securestore.ExtraRetracted] != "" {
				tombstones[m.ConversationID+"/"+m.OriginID]++
				continue
			}
			stored[m.Body] = append(stored[m.Body], m)
		}
	}
	w.model.mu.Lock()
	wantPlaceholders := maps.Clone(w.model.placeholders)
	w.model.mu.Unlock()
	for k, n := range placeholders {
		if wantPlaceholders[k] != n {
			v = append(v, fmt.Sprintf("%d placeholders stored for an %s, want %d", n, k, wantPlaceholders[k]))
		}
	}
	for k, n := range wantPlaceholders {
		if placeholders[k] == 0 {
			v = append(v, fmt.Sprintf("no placeholder stored for an %s, want %d", k, n))
		}
	}
	for body, copies := range stored {
		e, why := w.model.lookup(body)
		switch {
		case why != "":
			v = append(v, fmt.Sprintf("forged message stored (%s): %s", why, describe(copies[0])))
		case e == nil:
			v = append(v, fmt.Sprintf("unexpected message stored: %q %s", body, describe(copies[0])))
		}
	}
	peerCount := map[string]int{} // body -> copies in bob's store from alice
	for _, m := range w.bob.conversation(alice) {
		if m.Direction == securestore.Incoming {
			peerCount[m.Body]++
		}
	}
	roomPeerCount := map[string]int{}
	for _, m := range w.bob.conversation(w.room) {
		if m.Direction == securestore.Incoming {
			roomPeerCount[m.Body]++
		}
	}
	wantTombstones := map[string]bool{}
	for _, e := range w.model.snapshot() {
		if e.recalled {
			key := e.conv + "/" + e.originID
			wantTombstones[key] = true
			if n := tombstones[key]; n != 1 || len(stored[e.body]) != 0 {
				v = append(v, fmt.Sprintf("step %d: recalled %q: %d tombstones, %d copies with its text on the phone (want 1, 0)", e.step, e.body, n, len(stored[e.body])))
			}
			continue
		}
	}
	for key, n := range tombstones {
		if !wantTombstones[key] {
			v = append(v, fmt.Sprintf("%d recalled messages %s on the phone that nobody recalled", n, key))
		}
	}
	for _, e := range w.model.snapshot() {
		if e.recalled {
			continue
		}
		copies := stored[e.body]
		if e.maybe && len(copies) == 0 {
			if peerCount[e.body] != 0 {
				v = append(v, fmt.Sprintf("%q reached bob but the killed sender never stored it", e.body))
			}
			continue
		}
		if len(copies) != 1 {
			v = append(v, fmt.Sprintf("step %d: %q stored %d times on the phone (want once)", e.step, e.body, len(copies)))
			continue
		}
		m := copies[0]
		if m.ConversationID != e.conv {
			v = append(v, fmt.Sprintf("%q stored in conversation %s, want %s", e.body, m.ConversationID, e.conv))
		}
		if m.Direction != e.dir {
			v = append(v, fmt.Sprintf("%q stored as %v, want %v", e.body, dirName(m.Direction), dirName(e.dir)))
		}
		if !senderIs(m, e, w.room) {
			v = append(v, fmt.Sprintf("%q stored from %q (author %q), want %s (nick %q)", e.body, m.From, m.Extra[securestore.ExtraSender], e.from, e.nick))
		}
		lo, hi := w.clock.offsets(e.sentAt, now)
		earliest := e.sentAt
		if !e.claimed.IsZero() && e.claimed.Before(earliest) {
			earliest = e.claimed
		}
		earliest = earliest.Add(lo - 2*time.Second)
		latest := now.Add(hi + 2*time.Second)
		if m.Timestamp.Before(earliest) || m.Timestamp.After(latest) {
			v = append(v, fmt.Sprintf("%q has timestamp %s, outside [%s, %s]", e.body,
				m.Timestamp.UTC().Format(time.RFC3339), earliest.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339)))
		}
		if e.dir == securestore.Outgoing {
			if m.Receipt.State < securestore.ReceiptSent || m.Receipt.State == securestore.ReceiptFailed {
				v = append(v, fmt.Sprintf("%q is %v on the phone (%q), want sent or later", e.body, m.Receipt.State, m.Receipt.Reason))
			}
		}
		if e.toBob && peerCount[e.body] != 1 {
			v = append(v, fmt.Sprintf("step %d: bob's store holds %q %d times (want once)", e.step, e.body, peerCount[e.body]))
		}
		if e.toRoom && roomPeerCount[e.body] != 1 {
			v = append(v, fmt.Sprintf("step %d: bob's store holds room message %q %d times (want once)", e.step, e.body, roomPeerCount[e.body]))
		}
	}
	v = append(v, w.occupantIdentities(stored)...)
	if out, err := phone.store.Outbox(); err != nil || len(out) != 0 {
		var which []string
		for _, m := range out {
			which = append(which, fmt.Sprintf("%q %v", m.Body, m.Receipt.State))
		}
		v = append(v, fmt.Sprintf("the phone's outbox holds %d messages (%v): %s", len(out), err, strings.Join(which, ", ")))
	}
	if len(v) > 0 || !final {
		return v
	}
	return append(v, w.archiveViolations(stored)...)
}

// archiveViolations reads the server's archives: bob's holds each of alice's
// messages to him exactly once (so it was sent once), the room's each room
// message once, and everything in alice's archive and the room's archive is
// in the phone's store (catch-up skipped nothing).
func (w *world) archiveViolations(stored map[string][]securestore.Message) []string {
	var v []string
	alice, bob := w.srv.JID("alice"), w.srv.JID("bob")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	ac := w.dial("alice", "checker")
	defer ac.Close()
	own, err := readArchive(ctx, ac, "")
	if err != nil {
		return append(v, "reading alice's archive: "+err.Error())
	}
	for _, r := range own {
		m := r.Message
		if m.Body == "" || m.RetractID != "" || m.ReplaceID != "" {
			continue // edits are not messages of their own
		}
		peer := xmpp.BareJID(m.From)
		if peer == alice {
			peer = xmpp.BareJID(m.To)
		}
		if !w.heldIn(stored, m.Body, peer) {
			v = append(v, fmt.Sprintf("alice's archive holds %q (%s, id %s) but the phone's store does not", m.Body, peer, r.ID))
		}
	}
	roomArchive, err := readArchive(ctx, ac, w.room)
	if err != nil {
		return append(v, "reading the room's archive: "+err.Error())
	}
	roomCount := map[string]int{}
	for _, r := range roomArchive {
		if b := r.Message.Body; b != "" && r.Message.RetractID == "" && r.Message.ReplaceID == "" {
			roomCount[b]++
			if !w.heldIn(stored, b, w.room) {
				v = append(v, fmt.Sprintf("the room's archive holds %q (id %s) but the phone's store does not", b, r.ID))
			}
		}
	}

	bc := w.dial("bob", "checker")
	defer bc.Close()
	bobs, err := readArchive(ctx, bc, "")
	if err != nil {
		return append(v, "reading bob's archive: "+err.Error())
	}
	toBob := map[string]int{}
	bobIDs := map[string][]string{} // body -> "archive id @ time, origin-id" (for the report)
	for _, r := range bobs {
		if m := r.Message; m.Body != "" && xmpp.BareJID(m.From) == alice && xmpp.BareJID(m.To) == bob {
			toBob[m.Body]++
			bobIDs[m.Body] = append(bobIDs[m.Body], fmt.Sprintf("%s@%s origin-id %s", r.ID, r.Timestamp.UTC().Format("15:04:05.000"), m.OriginID))
		}
	}
	ownCount := map[string]int{}
	for _, r := range own {
		ownCount[r.Message.Body]++
	}
	for _, e := range w.model.snapshot() {
		sent := !e.maybe || len(stored[e.body]) > 0
		if e.toBob {
			if want := map[bool]int{true: 1, false: 0}[sent]; toBob[e.body] != want {
				v = append(v, fmt.Sprintf("step %d: bob's archive holds %q %d times, want %d (%v; alice's archive holds it %d times)",
					e.step, e.body, toBob[e.body], want, bobIDs[e.body], ownCount[e.body]))
			}
		}
		if e.toRoom || (e.conv == w.room && e.dir == securestore.Incoming) {
			if roomCount[e.body] != 1 {
				v = append(v, fmt.Sprintf("step %d: the room's archive holds %q %d times, want 1", e.step, e.body, roomCount[e.body]))
			}
		}
	}
	for body, n := range toBob {
		if e, _ := w.model.lookup(body); e == nil {
			v = append(v, fmt.Sprintf("bob's archive holds %q from alice %d times, which no step sent", body, n))
		}
	}
	return v
}

// heldIn: the body is stored in conversation conv, or is a forgery the
// model says must not be stored (its absence is checked elsewhere).
func (w *world) heldIn(stored map[string][]securestore.Message, body, conv string) bool {
	if e, why := w.model.lookup(body); why != "" || (e != nil && e.recalled) {
		return true // forbidden (checked elsewhere) or recalled (a tombstone, checked elsewhere)
	}
	for _, m := range stored[body] {
		if m.ConversationID == conv {
			return true
		}
	}
	return false
}

// readArchive pages through a whole archive.
func readArchive(ctx context.Context, c *xmpp.Client, archive string) ([]xmpp.ArchivedMessage, error) {
	var out []xmpp.ArchivedMessage
	after := ""
	for {
		p, err := c.QueryArchive(ctx, xmpp.ArchiveQuery{Archive: archive, After: after, Max: 250})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Results...)
		if p.Complete || len(p.Results) == 0 || p.Last == "" {
			return out, nil
		}
		after = p.Last
	}
}

// occupantIdentities: where the engine records a room author as an XEP-0421
// occupant-id (stable per real JID and room), each true sender must have one
// identity and no identity may stand for two senders: whoever takes a nick
// does not become its previous holder.
func (w *world) occupantIdentities(stored map[string][]securestore.Message) []string {
	var v []string
	ids := map[string]map[string]bool{}     // true sender -> identities
	senders := map[string]map[string]bool{} // identity -> true senders
	for body, copies := range stored {
		e, _ := w.model.lookup(body)
		if e == nil || e.conv != w.room || len(copies) != 1 {
			continue
		}
		who := copies[0].Extra[securestore.ExtraSender]
		if !strings.HasPrefix(who, "occupant-id:") {
			continue
		}
		if ids[e.from] == nil {
			ids[e.from] = map[string]bool{}
		}
		if senders[who] == nil {
			senders[who] = map[string]bool{}
		}
		ids[e.from][who] = true
		senders[who][e.from] = true
	}
	for from, set := range ids {
		if len(set) > 1 {
			v = append(v, fmt.Sprintf("%s's room messages carry %d different author identities", from, len(set)))
		}
	}
	for who, set := range senders {
		if len(set) > 1 {
			v = append(v, fmt.Sprintf("author identity %s stands for %d different people: %v", who, len(set), slices.Sorted(maps.Keys(set))))
		}
	}
	return v
}

// senderIs: a 1:1 message names its sender's bare JID; a room message the
// occupant (room/nick) or, where the engine records it, the real JID.
func senderIs(m securestore.Message, e *expected, room string) bool {
	if who := m.Extra[securestore.ExtraSender]; who != "" && !strings.HasPrefix(who, "occupant-id:") && who != e.from {
		return false // the author the engine recorded is someone else
	}
	if e.dir == securestore.Outgoing {
		return xmpp.BareJID(m.From) == e.from || m.From == room+"/"+e.nick
	}
	if e.conv == room {
		return m.From == room+"/"+e.nick || xmpp.BareJID(m.From) == e.from
	}
	return xmpp.BareJID(m.From) == e.from
}

func describe(m securestore.Message) string {
	return fmt.Sprintf("[conv %s from %s %s origin-id %q stanza-id %q at %s]", m.ConversationID, m.From,
		dirName(m.Direction), m.OriginID, m.StanzaID, m.Timestamp.UTC().Format(time.RFC3339))
}

func dirName(d securestore.Direction) string {
	if d == securestore.Outgoing {
		return "outgoing"
	}
	return "incoming"
}

// settle waits until the invariants hold (messages still in flight arrive),
// then, after a pause in which a stray duplicate would land, checks them
// once more including the server's archives.
func (w *world) settle(timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	var v []string
	for {
		v = w.violations(false)
		if len(v) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return v
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	for {
		v = w.violations(true)
		if len(v) == 0 || time.Now().After(deadline) {
			return v
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// runModel sets the world up, runs the schedule and checks the invariants.
func runModel(t *testing.T, seed int64, steps int, schedule []modelStep) {
	repro := fmt.Sprintf("ROUNDS_MODEL_SEED=%d ROUNDS_MODEL_STEPS=%d", seed, steps)
	if e := os.Getenv("ROUNDS_MODEL_ENABLE"); e != "" {
		repro += " ROUNDS_MODEL_ENABLE=" + e
	}
	repro += " go test -count=1 -run 'TestModel' ./sync/"
	current := -1
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("model: seed %d failed at step %d; schedule:\n%sreproduce with:\n  %s", seed, current, formatSchedule(schedule), repro)
		}
	})
	t.Logf("model: seed %d schedule:\n%s", seed, formatSchedule(schedule))
	w := newWorld(t, seed)
	for i, st := range schedule {
		current, w.stepNo = i, i
		start := time.Now()
		w.run(st)
		w.phone.waitOnline()
		t.Logf("step %d %s: %v", i, st, time.Since(start).Round(time.Millisecond))
	}
	current = len(schedule)
	start := time.Now()
	if v := w.settle(60 * time.Second); len(v) > 0 {
		sort.Strings(v)
		if len(v) > 40 {
			v = append(v[:40], fmt.Sprintf("... and %d more", len(v)-40))
		}
		t.Fatalf("seed %d: invariants broken after the schedule:\n  %s", seed, strings.Join(v, "\n  "))
	}
	t.Logf("invariants hold (%v to settle); %d messages in the model", time.Since(start).Round(time.Millisecond), len(w.model.snapshot()))
}
