package xmpp

// XEP-0421 Anonymous unique occupant identifiers for MUCs: a room that
// supports it stamps every occupant's presence and groupchat message with an
// id that is stable for that occupant's real bare JID in that room, and
// removes any occupant-id a sender put in (XEP-0421 §4). So it names the
// author of a message across nick changes and leaving and rejoining, and
// unlike the nick cannot be taken over. It is the room's claim: believe it
// only from a room known to add it (one that stamped our own presence).
const NSOccupantID = "urn:xmpp:occupant-id:0"

// OccupantID returns the occupant-id the room put on st, or "". A room adds
// its own after stripping the sender's, so with several the last one is the
// room's.
func OccupantID(st *Element) string {
	if st == nil {
		return ""
	}
	id := ""
	for _, o := range st.ChildrenNamed(NSOccupantID, "occupant-id") {
		if v := o.Attr("id"); v != "" && len(v) <= maxOccupantID {
			id = v
		}
	}
	return id
}

// maxOccupantID bounds an id we keep with every stored room message
// (Prosody's are 44 characters: base64 of an HMAC-SHA-256).
const maxOccupantID = 128
