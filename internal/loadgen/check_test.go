package loadgen

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"rounds/securestore"
)

// TestCheckCountsFromWhatWasDue: the invariants are counted over every
// message that was due, not over what a server acknowledged: one never
// stored (its Send failed, so nothing acknowledged it either), one stored
// twice and one stored by a client it was not for are each caught, by the
// events and by the recipients' stores read back; the same run with every
// message stored once by its recipient passes. The checker can fail.
func TestCheckCountsFromWhatWasDue(t *testing.T) {
	accounts := []Account{{JID: "a@load.test"}, {JID: "b@load.test"}, {JID: "c@load.test"}}
	newRun := func(t *testing.T) *run {
		r := &run{cfg: Config{Accounts: accounts}, prefix: "load-1 ", byJID: map[string]int{}}
		for i := range accounts {
			st, err := securestore.Create(filepath.Join(t.TempDir(), "s.db"), []byte("k"+strconv.Itoa(i)),
				securestore.Options{KDF: KDF, Secrets: noKeyring{}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			r.clients = append(r.clients, &client{i: i, jid: accounts[i].JID, store: st})
		}
		return r
	}
	n := 0
	// deliver stores seq in client to's store as from's message and tells
	// the run, as the engine's MessagesAdded does.
	deliver := func(t *testing.T, r *run, seq, from, to int) {
		n++
		now := time.Now()
		added, err := r.clients[to].store.AppendMessages([]securestore.Message{{
			ConversationID: accounts[from].JID, From: accounts[from].JID, To: accounts[to].JID,
			Direction: securestore.Incoming, Body: r.prefix + strconv.Itoa(seq),
			StanzaID: fmt.Sprintf("s%d", n), OriginID: fmt.Sprintf("o%d", n), Timestamp: now, ReceivedAt: now}})
		if err != nil || len(added) != 1 {
			t.Fatalf("append: %v (%d added)", err, len(added))
		}
		r.stored(to, added)
	}
	due := []record{{from: 0, to: 1}, {from: 0, to: 1}, {from: 2, to: 1}, {from: 0, to: 2}}

	t.Run("all once", func(t *testing.T) {
		r := newRun(t)
		r.records = append([]record{}, due...)
		for seq, rec := range r.records {
			deliver(t, r, seq, rec.from, rec.to)
		}
		var rep Report
		r.check(&rep)
		if rep.Lost != 0 || rep.Duplicated != 0 || rep.Misrouted != 0 || rep.StoreMismatch != 0 {
			t.Fatalf("a clean run: %+v", rep)
		}
	})
	t.Run("lost, twice, misrouted", func(t *testing.T) {
		r := newRun(t)
		r.records = append([]record{}, due...)
		r.records[1].sendErr = true // never acknowledged, never stored: still due
		deliver(t, r, 0, 0, 1)
		deliver(t, r, 2, 2, 1)
		deliver(t, r, 2, 2, 1) // a second copy (another stanza-id)
		deliver(t, r, 3, 0, 1) // stored by b, meant for c
		var rep Report
		r.check(&rep)
		// Lost: seq 1 and seq 3 (c never got it); twice: seq 2; misrouted:
		// seq 3 at b; stores: (a,b) holds 3 that was not for it and lacks
		// 1, (c,b) holds 2 twice, (a,c) lacks 3.
		if rep.Lost != 2 || rep.Duplicated != 1 || rep.Misrouted != 1 || rep.StoreMismatch != 3 {
			t.Fatalf("got lost %d, duplicated %d, misrouted %d, store mismatches %d; want 2, 1, 1, 3",
				rep.Lost, rep.Duplicated, rep.Misrouted, rep.StoreMismatch)
		}
	})
}

// TestFitGivesNoFigureFromNoise: passing steps whose server CPU falls as
// the rate rises (TestLoadShort/ejabberd at load 17 gave "server CPU a
// further message -8ms") yield no per-message figure rather than a
// negative one; a rising line gives its slope.
func TestFitGivesNoFigureFromNoise(t *testing.T) {
	noisy := Report{Steps: []Step{{Rate: 5, ServerCPU: 0.40, Pass: true}, {Rate: 20, ServerCPU: 0.28, Pass: true}}}
	noisy.fit()
	if noisy.PerMessage != 0 || noisy.Idle != 0 {
		t.Errorf("falling CPU: per message %v, idle %.2f cores; want no figure (0, 0)", noisy.PerMessage, noisy.Idle)
	}
	rising := Report{Steps: []Step{{Rate: 10, ServerCPU: 0.07, Pass: true}, {Rate: 20, ServerCPU: 0.12, Pass: true}}}
	rising.fit()
	if rising.PerMessage != 5*time.Millisecond || rising.Idle < 0.019 || rising.Idle > 0.021 {
		t.Errorf("rising CPU: per message %v, idle %.3f cores; want 5ms, 0.02", rising.PerMessage, rising.Idle)
	}
}
