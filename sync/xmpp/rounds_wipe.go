package xmpp

import "time"

// urn:rounds:wipe:0 — a remote wipe directive from an administrator. It is a
// chat message with a body (so the server archives it and stores it offline
// for a device that is switched off); the receiving app decides whether the
// sender is an admin named in the org policy.
const NSWipe = "urn:rounds:wipe:0"

// WipeFallback is the body other clients show.
const WipeFallback = "Rounds: your administrator has wiped this device."

// Wipe is a parsed <wipe/>.
type Wipe struct {
	ID     string
	Issued time.Time // zero if absent or unreadable
}

// NewWipe builds <wipe/>.
func NewWipe(id string, issued time.Time) *Element {
	return NewElement(NSWipe, "wipe", "id", id, "issued", issued.UTC().Format(time.RFC3339))
}

// ParseWipe reads <wipe/>; one without an id is nil.
func ParseWipe(st *Element) *Wipe {
	el := st.Child(NSWipe, "wipe")
	if id, ok := boundedAttr(el, "id", maxClinicalID); el == nil || id == "" || !ok {
		return nil
	}
	w := &Wipe{ID: el.Attr("id")}
	if t, err := time.Parse(time.RFC3339, el.Attr("issued")); err == nil {
		w.Issued = t
	}
	return w
}
