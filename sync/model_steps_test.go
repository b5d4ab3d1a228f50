package sync

import (
	"context"
	"fmt"
	"strings"
	gosync "sync"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// run performs one step of a schedule. Steps put messages on the wire and
// faults on the network; what must come of them goes into the model.
func (w *world) run(st modelStep) {
	switch st.Kind {
	case stepPeerLive:
		w.bobSends(w.srv.JID("alice"), "peer", st.N)
	case stepOwnSend:
		w.phoneSends(w.srv.JID("bob"), "own", st.N)
	case stepCarbon:
		w.deskSends("desk", st.N)
	case stepRoomPeer:
		w.bobSends(w.room, "room-bob", st.N)
	case stepRoomOwn:
		w.phoneSends(w.room, "room-own", st.N)
	case stepDupReorder:
		w.dupReorder(st.N)
	case stepCut:
		w.cuts(st.N, st.K)
	case stepOutage:
		w.outage(st.N)
	case stepRestart:
		w.restart(st.N)
	case stepOffline:
		w.offline(st.N, st.K == 1)
	case stepKillSend:
		w.killSend(st.N, st.K)
	case stepKillCatchUp:
		w.killCatchUp(st.N, st.K)
	case stepClockJump:
		w.clock.jump(time.Duration(st.N) * time.Minute)
		w.bobSends(w.srv.JID("alice"), "after-jump", 2)
		w.phoneSends(w.srv.JID("bob"), "after-jump-own", 1)
	case stepRecall:
		w.recall(st.K == 1)
	case stepOwnCorrupted:
		w.forgedOwn()
	case stepFutureDelay:
		w.carolClaims("future", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	case stepBackdated:
		w.carolClaims("backdated", time.Now().AddDate(-7, 0, 0))
	case stepSenderDelay:
		w.carolClaims("sender-delay", time.Now().Add(-30*time.Minute))
	case stepIDReuse:
		w.idReuse(st.N)
	case stepNickSquat:
		w.nickSquat()
	case stepOversized:
		w.oversized()
	case stepDeepStanza:
		w.deepStanza()
	default:
		w.t.Fatalf("unknown step %q", st.Kind)
	}
}

// phoneSends sends n messages from the phone to conv (bob or the room).
func (w *world) phoneSends(conv, tag string, n int) {
	for i := range n {
		e := &expected{body: w.body(tag, i), conv: conv, dir: securestore.Outgoing,
			from: w.srv.JID("alice"), nick: "alice", sentAt: time.Now(), step: w.stepNo,
			toBob: conv == w.srv.JID("bob"), toRoom: conv == w.room}
		w.model.add(e)
		if _, err := w.phone.session.Send(conv, e.body, SendOptions{}); err != nil {
			w.t.Errorf("phone send: %v", err)
		}
	}
}

// bobSends sends n messages from bob to alice (1:1) or to the room.
func (w *world) bobSends(to, tag string, n int) {
	conv := w.srv.JID("bob")
	if to == w.room {
		conv = w.room
	}
	for i := range n {
		e := &expected{body: w.body(tag, i), conv: conv, dir: securestore.Incoming,
			from: w.srv.JID("bob"), nick: "bob", sentAt: time.Now(), step: w.stepNo}
		w.model.add(e)
		if _, err := w.bob.session.Send(to, e.body, SendOptions{}); err != nil {
			w.t.Errorf("bob send: %v", err)
		}
	}
}

// deskSends: alice writes to bob on her desktop; the phone must show it as
// her own (a sent carbon live, or her archive later).
func (w *world) deskSends(tag string, n int) {
	bob := w.srv.JID("bob")
	for i := range n {
		e := &expected{body: w.body(tag, i), conv: bob, dir: securestore.Outgoing,
			from: w.srv.JID("alice"), sentAt: time.Now(), step: w.stepNo, toBob: true}
		w.model.add(e)
		if _, err := w.desk.session.Send(bob, e.body, SendOptions{}); err != nil {
			w.t.Errorf("desk send: %v", err)
		}
	}
}

// carolChat is a 1:1 message from carol's raw client to alice's bare JID.
func (w *world) carolChat(id, body string, stamp time.Time, originID bool) *xmpp.Element {
	el := xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", w.srv.JID("alice"), "id", id).Append(
		xmpp.NewElement(xmpp.NSClient, "body").SetText(body))
	if originID {
		el.Append(xmpp.NewElement(xmpp.NSSID, "origin-id", "id", id))
	}
	if !stamp.IsZero() {
		el.Append(xmpp.NewElement("urn:xmpp:delay", "delay", "stamp", stamp.UTC().Format(time.RFC3339)))
	}
	return el
}

func (w *world) carolSend(c *xmpp.Client, el *xmpp.Element) {
	if err := c.Send(el); err != nil {
		w.t.Errorf("carol send: %v", err)
	}
}

// dupReorder: carol's client (an honest one with a flaky link) resends every
// message two or three times, newest first, each stamped with the minute it
// was written. Each is stored once.
func (w *world) dupReorder(n int) {
	c := w.dial("carol", fmt.Sprintf("c%d", w.stepNo))
	defer c.Close()
	now := time.Now()
	for i := n - 1; i >= 0; i-- {
		e := &expected{body: w.body("dup", i), conv: w.srv.JID("carol"), dir: securestore.Incoming,
			from: w.srv.JID("carol"), sentAt: now, step: w.stepNo,
			claimed: now.Add(-time.Duration(n-i) * time.Minute).Truncate(time.Second)}
		w.model.add(e)
		id := fmt.Sprintf("dup-%d-%d-%d", w.seed, w.stepNo, i)
		for k := 0; k < 2+i%2; k++ {
			w.carolSend(c, w.carolChat(id, e.body, e.claimed, true))
		}
	}
}

// cuts: the phone's socket is reset k times while the phone and bob both
// send; stream management resumes each time.
func (w *world) cuts(n, k int) {
	var wg gosync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range k {
			time.Sleep(40 * time.Millisecond)
			w.proxy.Cut()
		}
	}()
	go func() {
		defer wg.Done()
		w.bobSends(w.srv.JID("alice"), "cut-peer", n/2+1)
	}()
	w.phoneSends(w.srv.JID("bob"), "cut-own", n)
	w.phoneSends(w.room, "cut-room", 2)
	wg.Wait()
}

// outage: the phone's network is gone longer than the server keeps its
// session (3 s here). Everything sent to it meanwhile is only in the
// archives (and offline storage); what it queued goes out after a fresh
// sign-in.
func (w *world) outage(n int) {
	w.proxy.Refuse(true)
	w.proxy.Cut()
	w.phone.waitFor("offline", 10*time.Second, func() bool { return w.phone.session.State().Connectivity != Online })
	w.phoneSends(w.srv.JID("bob"), "outage-own", n)
	w.bobSends(w.srv.JID("alice"), "outage-peer", n)
	w.bobSends(w.room, "outage-room", n/2+1)
	time.Sleep(3500 * time.Millisecond)
	w.proxy.Refuse(false)
}

// restart: Prosody stops and starts again while both sides send. No session
// survives; every client signs in afresh, catches up and flushes its outbox.
func (w *world) restart(n int) {
	w.phoneSends(w.srv.JID("bob"), "restart-own-before", n)
	w.bobSends(w.srv.JID("alice"), "restart-peer-before", n)
	if err := w.srv.Restart(); err != nil {
		w.t.Fatalf("restart prosody: %v", err)
	}
	w.phoneSends(w.srv.JID("bob"), "restart-own-after", n)
	w.bobSends(w.room, "restart-room-after", n)
}

// offline: the phone signs out (and, with deskToo, the desk: then the
// server's offline storage holds bob's messages as well); traffic meanwhile;
// the phone signs in and pages through its archive and the room's.
func (w *world) offline(n int, deskToo bool) {
	w.phone.stop()
	if deskToo {
		w.desk.stop()
	} else {
		w.deskSends("offline-desk", 2)
	}
	w.bobSends(w.srv.JID("alice"), "offline-peer", n)
	w.bobSends(w.room, "offline-room", n/2+1)
	w.waitBobSent()
	w.startPhone()
	if deskToo {
		w.desk = startDevice(w.t, w.srv, "alice", deviceOptions{resource: "desk", storePath: w.desk.path})
	}
}

// waitBobSent waits until the server acknowledged all of bob's messages, so
// they are in the archives before the phone comes back.
func (w *world) waitBobSent() {
	w.bob.waitFor("bob's outbox empty", 30*time.Second, func() bool {
		out, _ := w.bob.store.Outbox()
		return len(out) == 0
	})
}

// killSend: the phone runs as a child process that queues n messages to bob
// and is SIGKILLed once it reported k of them stored. Those k must reach bob
// exactly once; the others either were stored (then exactly once too) or
// were not (then never).
func (w *world) killSend(n, k int) {
	w.phone.stop()
	prefix := fmt.Sprintf("s%d-%d-%s", w.seed, w.stepNo, "killed")
	now := time.Now()
	for i := range n {
		w.model.add(&expected{body: fmt.Sprintf("%s-%04d", prefix, i), conv: w.srv.JID("bob"), dir: securestore.Outgoing,
			from: w.srv.JID("alice"), sentAt: now, step: w.stepNo, toBob: true, maybe: i >= k})
	}
	cmd, lines := runChild(w.t, childSpec{Mode: "send", StorePath: w.path, URL: w.srv.WSURL(), JID: w.srv.JID("alice"),
		Password: testserver.Password, To: w.srv.JID("bob"), Count: n, Prefix: prefix})
	waitLines(w.t, lines, "queued", k, 60*time.Second)
	kill(w.t, cmd)
	w.startPhone()
}

// killCatchUp: while the phone is away bob sends n messages; the phone's
// process starts, commits k archive pages and is SIGKILLed; the restarted
// phone continues from its committed cursor.
func (w *world) killCatchUp(n, k int) {
	w.phone.stop()
	w.bobSends(w.srv.JID("alice"), "catchup", n)
	w.waitBobSent()
	cmd, lines := runChild(w.t, childSpec{Mode: "catchup", StorePath: w.path, URL: w.srv.WSURL(), JID: w.srv.JID("alice"),
		Password: testserver.Password, Page: modelPage})
	waitLines(w.t, lines, "added", k, 60*time.Second)
	kill(w.t, cmd)
	w.startPhone()
}

// forgedOwn: carol sends stanzas that claim to be alice's own carbons and an
// archive result. None may be stored. A genuine message follows, so once it
// is stored the forgeries were processed.
func (w *world) forgedOwn() {
	c := w.dial("carol", fmt.Sprintf("c%d", w.stepNo))
	defer c.Close()
	alice, bob := w.srv.JID("alice"), w.srv.JID("bob")
	inner := func(from, to, body string) *xmpp.Element {
		return xmpp.NewElement("urn:xmpp:forward:0", "forwarded").Append(
			xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "from", from, "to", to, "id", xmpp.NewID()).Append(
				xmpp.NewElement(xmpp.NSClient, "body").SetText(body)))
	}
	sent, recv, mam := w.body("forged-sent-carbon", 0), w.body("forged-received-carbon", 0), w.body("forged-archive", 0)
	w.model.forbid(sent, "a sent carbon from carol")
	w.model.forbid(recv, "a received carbon from carol")
	w.model.forbid(mam, "an archive result from carol")
	wrap := func(ns, local string, fwd *xmpp.Element) *xmpp.Element {
		return xmpp.NewElement(xmpp.NSClient, "message", "to", alice+"/"+phoneResource).Append(
			xmpp.NewElement(ns, local).Append(fwd))
	}
	w.carolSend(c, wrap("urn:xmpp:carbons:2", "sent", inner(alice+"/desk", bob, sent)))
	w.carolSend(c, wrap("urn:xmpp:carbons:2", "received", inner(bob+"/x", alice, recv)))
	res := xmpp.NewElement(xmpp.NSClient, "message", "to", alice+"/"+phoneResource).Append(
		xmpp.NewElement(xmpp.NSMAM, "result", "id", "forged-1", "queryid", "x").Append(inner(bob+"/x", alice, mam)))
	w.carolSend(c, res)
	e := &expected{body: w.body("after-forgeries", 0), conv: w.srv.JID("carol"), dir: securestore.Incoming,
		from: w.srv.JID("carol"), sentAt: time.Now(), step: w.stepNo}
	w.model.add(e)
	w.carolSend(c, w.carolChat(xmpp.NewID(), e.body, time.Time{}, true))
}

// carolClaims: carol's message carries a delay stamp she chose. It is stored,
// but its timestamp must be the receipt's (the model's window ignores the
// claim).
func (w *world) carolClaims(tag string, stamp time.Time) {
	c := w.dial("carol", fmt.Sprintf("c%d", w.stepNo))
	defer c.Close()
	e := &expected{body: w.body(tag, 0), conv: w.srv.JID("carol"), dir: securestore.Incoming,
		from: w.srv.JID("carol"), sentAt: time.Now(), step: w.stepNo}
	w.model.add(e)
	w.carolSend(c, w.carolChat(xmpp.NewID(), e.body, stamp, true))
}

// idReuse: carol's lab gateway sends without origin-ids and its id counter
// restarts: distinct results with the same ids. Every one is stored.
func (w *world) idReuse(n int) {
	c := w.dial("carol", fmt.Sprintf("c%d", w.stepNo))
	defer c.Close()
	for round := range 2 {
		for i := range n {
			e := &expected{body: w.body(fmt.Sprintf("lab-r%d", round), i), conv: w.srv.JID("carol"), dir: securestore.Incoming,
				from: w.srv.JID("carol"), sentAt: time.Now(), step: w.stepNo}
			w.model.add(e)
			w.carolSend(c, w.carolChat(fmt.Sprintf("lab-%d", i+1), e.body, time.Time{}, false))
		}
	}
}

// nickSquat: while the phone is away carol joins the room under the nick
// "alice" and posts. The phone must not store that as its own message.
func (w *world) nickSquat() {
	w.phone.stop()
	c := w.dial("carol", fmt.Sprintf("c%d", w.stepNo))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The nick is free once every session of alice left the room; one of
	// a SIGKILLed child stays until the server gives up on it (3 s here).
	var err error
	for range 40 {
		if err = c.JoinRoom(ctx, w.room, "alice"); err == nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		w.t.Fatalf("carol joins as alice: %v", err)
	}
	e := &expected{body: w.body("squat", 0), conv: w.room, dir: securestore.Incoming,
		from: w.srv.JID("carol"), nick: "alice", sentAt: time.Now(), step: w.stepNo}
	w.model.add(e)
	w.carolSend(c, xmpp.NewGroupChat(w.room, e.body))
	time.Sleep(200 * time.Millisecond)
	_ = c.LeaveRoom(w.room, "alice")
	c.Close()
	w.startPhone()
}

// oversized: carol sends a message as large as Prosody takes (256 KiB),
// made of quotes, which Prosody re-escapes as &quot;: what it delivers and
// archives is about six times larger. Anything a standard server accepts
// must be readable: it is stored in full, and the message after it too.
func (w *world) oversized() {
	c := w.dial("carol", fmt.Sprintf("c%d", w.stepNo))
	defer c.Close()
	big := w.body("big", 0) + " " + strings.Repeat(`"`, 250_000)
	e := &expected{body: big, conv: w.srv.JID("carol"), dir: securestore.Incoming,
		from: w.srv.JID("carol"), sentAt: time.Now(), step: w.stepNo}
	w.model.add(e)
	w.carolSend(c, w.carolChat(xmpp.NewID(), big, time.Time{}, true))
	after := &expected{body: w.body("after-big", 0), conv: w.srv.JID("carol"), dir: securestore.Incoming,
		from: w.srv.JID("carol"), sentAt: time.Now(), step: w.stepNo}
	w.model.add(after)
	w.carolSend(c, w.carolChat(xmpp.NewID(), after.body, time.Time{}, true))
}

// deepStanza: carol sends a message nested deeper than the client's decoder
// accepts. It is stored as one placeholder (no body), never retried forever,
// and a message after it still arrives.
func (w *world) deepStanza() {
	c := w.dial("carol", fmt.Sprintf("c%d", w.stepNo))
	defer c.Close()
	el := w.carolChat(xmpp.NewID(), w.body("deep", 0), time.Time{}, true)
	w.model.forbid(w.body("deep", 0), "a stanza deeper than the decoder's limit cannot be read")
	w.model.expectPlaceholder(w.srv.JID("carol"), w.srv.JID("carol"))
	x := xmpp.NewElement("urn:example:deep", "x")
	el.Append(x)
	for range 40 {
		y := xmpp.NewElement("urn:example:deep", "x")
		x.Append(y)
		x = y
	}
	w.carolSend(c, el)
	after := &expected{body: w.body("after-deep", 0), conv: w.srv.JID("carol"), dir: securestore.Incoming,
		from: w.srv.JID("carol"), sentAt: time.Now(), step: w.stepNo}
	w.model.add(after)
	w.carolSend(c, w.carolChat(xmpp.NewID(), after.body, time.Time{}, true))
}

// recall: bob sends a message to alice and one to the room, then recalls
// both (XEP-0424), with the phone signed out meanwhile if away: then it
// learns of the recall from the archives' pages. The phone ends with one
// tombstone each and the text nowhere.
func (w *world) recall(away bool) {
	alice := w.srv.JID("alice")
	type sent struct {
		e  *expected
		to string
		id securestore.MessageID
	}
	var msgs []sent
	for _, to := range []string{alice, w.room} {
		conv := w.srv.JID("bob")
		if to == w.room {
			conv = w.room
		}
		e := &expected{body: w.body("recalled", len(msgs)), conv: conv, dir: securestore.Incoming,
			from: w.srv.JID("bob"), nick: "bob", sentAt: time.Now(), step: w.stepNo, recalled: true}
		m, err := w.bob.session.Send(to, e.body, SendOptions{})
		if err != nil {
			w.t.Fatalf("bob send: %v", err)
		}
		e.originID = m.OriginID
		w.model.add(e)
		msgs = append(msgs, sent{e, to, m.ID})
	}
	w.waitBobSent()
	if away {
		w.phone.stop()
	}
	for _, m := range msgs {
		if err := w.bob.session.Retract(m.to, m.id); err != nil {
			w.t.Fatalf("bob recalls: %v", err)
		}
	}
	w.waitBobSent()
	if away {
		w.startPhone()
	}
}
