package app

import (
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// What the services under Client.mu (policyState, retentionClock,
// wipeOrders, presenceBook, attention) ask of the rest of the Client
// through their host interfaces that the Client has no method for
// already. All with Client.mu held.

// sessionLocked is the open store and its Session (nil, nil while locked).
func (c *Client) sessionLocked() (*securestore.Store, *sync.Session) { return c.store, c.session }

// accountLocked is the account's bare JID (Account without the lock).
func (c *Client) accountLocked() string { return c.account }

// storeLocked is the open store (nil while locked).
func (c *Client) storeLocked() *securestore.Store { return c.store }

// idleLocked is how long since the last activity (Touch).
func (c *Client) idleLocked() time.Duration { return c.cfg.Clock.Now().Sub(c.lastTouch) }
