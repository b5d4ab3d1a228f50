package app

import (
	"context"

	"rounds/securestore"
)

// NeedsPassword reports that the server refused the stored credentials (the
// password was changed or the account disabled): the Session stopped
// retrying, and the UI should ask for the password and call UpdatePassword.
func (c *Client) NeedsPassword() bool {
	return c.Connection().Connectivity == AuthFailed
}

// UpdatePassword checks a new password with one connection, keeps the new
// SCRAM keys (never the password) and restarts syncing. A wrong password
// returns ErrWrongPassword and changes nothing.
func (c *Client) UpdatePassword(ctx context.Context, password string) error {
	st, err := c.unlocked()
	if err != nil {
		return err
	}
	acct, err := st.Account()
	if err != nil {
		return mapErr(err)
	}
	creds, err := checkCredentials(ctx, c.cfg, acct.JID, password, acct.WebSocketURL, acct.Resource)
	if err != nil {
		return err
	}
	acct.Credentials = creds
	if err := st.SetAccount(acct); err != nil {
		return mapErr(err)
	}
	if err := st.Audit(securestore.AuditSignIn, "password updated"); err != nil {
		c.log.Warn("app: audit", "err", err)
	}
	// Restart the Session over the same open store with the new keys.
	old, ok := c.halt()
	if !ok {
		return ErrLocked
	}
	if err := c.start(old); err != nil {
		old.Close()
		c.changes.push(Change{Kind: Locked})
		return err
	}
	return nil
}
