package app

import (
	"fmt"
	"log/slog"
	"slices"
	gosync "sync"
	"time"

	"rounds/securestore"
)

// wipeOrders is the remote wipe service: the directives seen, those
// waiting for a policy, and whether a wipe is under way (Unlock refuses
// meanwhile).
//
// Locking: its state is guarded by Client.mu (mu points at it), as the
// lifecycle reads and sets wiping under that lock (client.go) and a
// directive is judged against the policy read at the same moment. The
// rest of the Client is reached only through wipeHost.
type wipeOrders struct {
	mu   *gosync.Mutex // Client.mu
	log  *slog.Logger
	host wipeHost

	wipesSeen map[string]bool
	heldWipes []heldWipe
	wiping    bool
}

// wipeHost is what the wipe service needs from the rest of the Client:
// the policy in force and whether an org policy arrived (Client.mu held),
// the audit log, and the wipe itself (client.go; it takes Client.mu).
type wipeHost interface {
	policyLocked() Policy
	hasOrgPolicyLocked() bool
	auditWith(st *securestore.Store, kind, detail string)
	wipeDevice(detail string) error
}

// Remote wipe: a lost phone is wiped by a directive (urn:rounds:wipe:0) from
// one of the policy's admin JIDs. The sync engine reports every directive it
// sees; the app decides. From an admin: the directive is audited, then the
// device is wiped (keys destroyed, store overwritten and removed, signed out).
// From anyone else: ignored and audited, so IT can see the attempt. A
// directive issued before this store was created is a replay (offline storage
// or the archive handing an old directive to a freshly set-up device) and is
// ignored too — otherwise a phone wiped once could never be set up again.

// wipeDecision is the pure rule.
type wipeDecision int

const (
	wipeNow wipeDecision = iota
	wipeNotAdmin
	wipeStale
)

func decideWipe(p Policy, from string, issued, createdAt time.Time) wipeDecision {
	if !slices.Contains(p.Admins, normJID(from)) {
		return wipeNotAdmin
	}
	// Issued times travel with second precision: a directive stamped in the
	// second the device was set up is meant for it.
	if issued.IsZero() || (!createdAt.IsZero() && issued.Before(createdAt.Truncate(time.Second))) {
		return wipeStale
	}
	return wipeNow
}

// storeCreated is when this store was set up (its first audit entry), the
// earliest moment a wipe directive can be meant for it.
func storeCreated(st *securestore.Store) time.Time {
	es, err := st.AuditLog()
	if err != nil {
		return time.Time{}
	}
	for _, e := range es {
		if e.Kind == securestore.AuditCreated || e.Kind == securestore.AuditSignIn {
			return e.Time
		}
	}
	return time.Time{}
}

// heldWipe is a directive that arrived before any org policy did (a fresh
// device catches up its archive before it reads the policy node): it is
// judged when the policy arrives, not dismissed as "not an admin".
type heldWipe struct {
	from, id string
	issued   time.Time
}

// onWipeRequested runs on the event loop; the wipe itself runs on its own
// goroutine, since stopping the Session waits for this loop to end.
func (wo *wipeOrders) onWipeRequested(st *securestore.Store, from, id string, issued time.Time) {
	wo.mu.Lock()
	p := wo.host.policyLocked()
	if !wo.host.hasOrgPolicyLocked() && len(p.Admins) == 0 {
		wo.heldWipes = append(wo.heldWipes, heldWipe{from, id, issued})
		wo.mu.Unlock()
		wo.log.Info("app: wipe directive held until the org policy arrives")
		return
	}
	seen := wo.wipesSeen[id]
	if wo.wipesSeen == nil {
		wo.wipesSeen = map[string]bool{}
	}
	wo.wipesSeen[id] = true
	wo.mu.Unlock()
	if seen && id != "" {
		return // the same directive again (carbon, archive)
	}
	who := normJID(from)
	if who == "" {
		who = "an unknown sender"
	}
	switch decideWipe(p, from, issued, storeCreated(st)) {
	case wipeNotAdmin:
		wo.log.Warn("app: wipe directive from a non-admin ignored")
		wo.host.auditWith(st, AuditWipeIgnored, fmt.Sprintf("wipe directive ignored from %s: not a policy admin (id %s)", who, id))
		return
	case wipeStale:
		wo.log.Info("app: wipe directive issued before this device signed in ignored")
		wo.host.auditWith(st, AuditWipeIgnored, fmt.Sprintf("wipe directive ignored from %s: issued %s, before this device signed in (id %s)",
			who, issued.UTC().Format(time.RFC3339), id))
		return
	}
	wo.log.Warn("app: remote wipe by an administrator")
	go func() {
		if err := wo.host.wipeDevice(fmt.Sprintf("remote wipe by %s (id %s, issued %s)", who, id, issued.UTC().Format(time.RFC3339))); err != nil {
			wo.log.Warn("app: remote wipe", "err", err)
		}
	}()
}

// judgeHeldWipes decides the directives held for want of a policy, now that
// one is in force.
func (wo *wipeOrders) judgeHeldWipes(st *securestore.Store) {
	wo.mu.Lock()
	held := wo.heldWipes
	wo.heldWipes = nil
	wo.mu.Unlock()
	for _, w := range held {
		wo.onWipeRequested(st, w.from, w.id, w.issued)
	}
}
