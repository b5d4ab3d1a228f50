package app

import (
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// What the policy service (policyState, policy.go) asks of the rest of the
// Client (policyHost) that the Client has no method for already.

// sessionLocked is the open store and its Session (nil, nil while locked);
// Client.mu held.
func (c *Client) sessionLocked() (*securestore.Store, *sync.Session) { return c.store, c.session }

// idleLocked is how long since the last activity (Touch); Client.mu held.
func (c *Client) idleLocked() time.Duration { return c.cfg.Clock.Now().Sub(c.lastTouch) }
