package sync

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Mentions (XEP-0372 references of type mention). An "@nick" in a room
// message, where nick is an occupant the room names by real JID, or
// "@name" in a chat naming the peer's local part, goes out as a mention of
// that person; a received message records whom it mentions
// (ExtraMentions), so the app can notify the person named even in a muted
// conversation. A mention is the sender's claim that they addressed you: it
// only raises a notification, never an alert.

// ExtraMentions lists the bare JIDs a message mentions, comma-separated,
// each "jid=name" where name is the word the mention covers in the text,
// without its "@" (received: as the sender marked the range, kept only
// when it is one plain word, so the thread can draw it; sent: as this
// account resolved it, so the wire ranges are found in the final text).
const ExtraMentions = "mentions"

// Mentions returns the bare JIDs message m mentions.
func Mentions(m securestore.Message) []string {
	var out []string
	for _, p := range strings.Split(m.Extra[ExtraMentions], ",") {
		j, _, _ := strings.Cut(p, "=")
		if j != "" {
			out = append(out, j)
		}
	}
	return out
}

// MentionWords returns the words ("@name", as they stand in the text) by
// which message m mentions who; none when the mention's range was not one
// plain word.
func MentionWords(m securestore.Message, who string) []string {
	var out []string
	for _, p := range strings.Split(m.Extra[ExtraMentions], ",") {
		j, name, _ := strings.Cut(p, "=")
		if j == who && name != "" && !slices.Contains(out, "@"+name) {
			out = append(out, "@"+name)
		}
	}
	return out
}

// noteMentions records whom a received message mentions, and by which word.
func noteMentions(sm *securestore.Message, m *xmpp.Message) {
	ms := xmpp.ParseMentions(m.Stanza, m.Body)
	if len(ms) == 0 {
		return
	}
	body := []rune(m.Body)
	var parts []string
	for _, x := range ms {
		p := x.JID
		if w := mentionWord(string(body[x.Begin:x.End])); w != "" {
			p += "=" + w
		}
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	if sm.Extra == nil {
		sm.Extra = map[string]string{}
	}
	sm.Extra[ExtraMentions] = strings.Join(parts, ",")
}

// mentionWord is the name a mention's range covers ("@kim" or "kim" →
// "kim"), "" unless it is one word of the characters an "@name" holds
// (atWords), so the stored list stays parseable.
func mentionWord(s string) string {
	s = strings.TrimPrefix(s, "@")
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '_' && r != '-' {
			return ""
		}
	}
	return s
}

// mentionsFor resolves the "@name" words of an outgoing body in conv to
// people: room occupants the room names by real JID, or the chat's peer.
func (s *Session) mentionsFor(conv, body string) string {
	names := map[string]string{} // lower-case name → bare JID
	if s.isRoom(conv) {
		s.mu.Lock()
		if r := s.rooms[conv]; r != nil {
			for nick, j := range r.members {
				if j != "" && j != s.account {
					names[strings.ToLower(nick)] = j
				}
			}
		}
		s.mu.Unlock()
	} else if j, err := xmpp.ParseJID(conv); err == nil && j.Local != "" {
		names[strings.ToLower(j.Local)] = conv
	}
	var out []string
	for _, w := range atWords(body) {
		if j, ok := names[strings.ToLower(w)]; ok && !slices.ContainsFunc(out, func(p string) bool { return strings.HasPrefix(p, j+"=") }) {
			out = append(out, j+"="+w)
		}
	}
	return strings.Join(out, ",")
}

// atWords are the words right after an "@" that starts a word.
func atWords(body string) []string {
	var out []string
	rs := []rune(body)
	for i, r := range rs {
		if r != '@' || i > 0 && !unicode.IsSpace(rs[i-1]) && !unicode.IsPunct(rs[i-1]) {
			continue
		}
		j := i + 1
		for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '.' || rs[j] == '_' || rs[j] == '-') {
			j++
		}
		if w := strings.TrimRight(string(rs[i+1:j]), ".-_"); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// decorateMentions adds a <reference/> for each resolved mention, its range
// found in the final body (after any prefix or quote).
func decorateMentions(el *xmpp.Element, m securestore.Message) {
	raw := m.Extra[ExtraMentions]
	b := el.Child(xmpp.NSClient, "body")
	if raw == "" || b == nil {
		return
	}
	for _, p := range strings.Split(raw, ",") {
		j, name, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		at := strings.Index(b.Text, "@"+name)
		if at < 0 {
			continue
		}
		begin := utf8.RuneCountInString(b.Text[:at])
		el.Append(xmpp.Mention{JID: j, Begin: begin, End: begin + 1 + utf8.RuneCountInString(name)}.Element())
	}
}
