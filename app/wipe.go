package app

import (
	"fmt"
	"slices"
	"time"

	"rounds/securestore"
)

// wipeOrders are the remote wipe directives seen, those waiting for a
// policy, and whether a wipe is under way (Unlock refuses meanwhile).
type wipeOrders struct {
	wipesSeen map[string]bool
	heldWipes []heldWipe
	wiping    bool
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
func (c *Client) onWipeRequested(st *securestore.Store, from, id string, issued time.Time) {
	c.mu.Lock()
	p := c.policyLocked()
	if c.org == nil && len(p.Admins) == 0 {
		c.heldWipes = append(c.heldWipes, heldWipe{from, id, issued})
		c.mu.Unlock()
		c.log.Info("app: wipe directive held until the org policy arrives")
		return
	}
	seen := c.wipesSeen[id]
	if c.wipesSeen == nil {
		c.wipesSeen = map[string]bool{}
	}
	c.wipesSeen[id] = true
	c.mu.Unlock()
	if seen && id != "" {
		return // the same directive again (carbon, archive)
	}
	who := normJID(from)
	if who == "" {
		who = "an unknown sender"
	}
	switch decideWipe(p, from, issued, storeCreated(st)) {
	case wipeNotAdmin:
		c.log.Warn("app: wipe directive from a non-admin ignored")
		c.auditWith(st, AuditWipeIgnored, fmt.Sprintf("wipe directive ignored from %s: not a policy admin (id %s)", who, id))
		return
	case wipeStale:
		c.log.Info("app: wipe directive issued before this device signed in ignored")
		c.auditWith(st, AuditWipeIgnored, fmt.Sprintf("wipe directive ignored from %s: issued %s, before this device signed in (id %s)",
			who, issued.UTC().Format(time.RFC3339), id))
		return
	}
	c.log.Warn("app: remote wipe by an administrator")
	go func() {
		if err := c.wipeDevice(fmt.Sprintf("remote wipe by %s (id %s, issued %s)", who, id, issued.UTC().Format(time.RFC3339))); err != nil {
			c.log.Warn("app: remote wipe", "err", err)
		}
	}()
}

// judgeHeldWipes decides the directives held for want of a policy, now that
// one is in force.
func (c *Client) judgeHeldWipes(st *securestore.Store) {
	c.mu.Lock()
	held := c.heldWipes
	c.heldWipes = nil
	c.mu.Unlock()
	for _, w := range held {
		c.onWipeRequested(st, w.from, w.id, w.issued)
	}
}
