package app

import (
	"slices"
	"strings"
	"time"
	"unicode"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// MessageSearch is what the search field asks: words and filters, every
// one narrowing. The store answers (securestore.Store.Search, an index
// built in memory on first use; docs/STORE.md, "Search").
type MessageSearch struct {
	// Text: words, each matched as the start of a word, any case.
	Text string
	// Conversation: one conversation (peer or room address); "" = all.
	Conversation string
	// Person: only what this person wrote (bare address), in chats and rooms.
	Person string
	// Urgent: only urgent messages (any level above routine).
	Urgent bool
	// Since, Until: message time within [Since, Until); zero = open.
	Since, Until time.Time
	// Patient: only messages tagged with this patient: "bed 4", "MRN
	// 123456", or words matched against the MRN, bed and name
	// (patient.go, patientFilter).
	Patient string
	// Limit: at most this many hits, newest first; <= 0 means 50.
	Limit int
}

// SearchHit is one message found, as the results list draws it.
type SearchHit struct {
	Conversation string // where to open it
	Title        string // the conversation's title
	IsRoom       bool
	Message      MessageID
	Sender       string // "You", the peer, or the room member
	// Snippet is the line of the message around the first word found, at
	// most about 100 characters, with "…" where it was cut.
	Snippet   string
	Timestamp time.Time
	Time      string // as the thread shows it ("14:02", "3 Mar 14:02")
	Urgency   securestore.Urgency
	// Patient is the patient tag's label ("Ama Osei · MRN 123456 · Bed
	// 4"), "" when the message has none.
	Patient string
}

// PrepareSearch builds the search index in the background, so the first
// query is quick: the search field calls it when it gets focus.
func (cc *conversations) PrepareSearch() {
	st, err := cc.host.unlocked()
	if err != nil {
		return
	}
	go func() {
		if err := st.BuildSearchIndex(); err != nil {
			cc.log.Debug("search index not built", "err", err)
		}
	}()
}

// SearchMessages finds messages across every conversation, newest first.
// Shared files (their body is a link with the file's key), recalled
// messages and placeholders for unreadable stanzas are never hits.
func (cc *conversations) SearchMessages(q MessageSearch) ([]SearchHit, error) {
	st, err := cc.host.unlocked()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(q.Text) == "" && q.Conversation == "" && q.Person == "" && !q.Urgent &&
		q.Since.IsZero() && q.Until.IsZero() && strings.TrimSpace(q.Patient) == "" {
		return nil, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	sq := securestore.SearchQuery{Text: q.Text, Since: q.Since, Until: q.Until, Limit: limit + 10,
		Patient: patientFilter(q.Patient)}
	if q.Conversation != "" {
		sq.Conversation = jid.Bare(q.Conversation)
	}
	if q.Person != "" {
		sq.Sender = jid.Bare(q.Person)
	}
	if q.Urgent {
		sq.MinUrgency = securestore.UrgencyHigh
	}
	res, err := st.Search(sq)
	if err != nil {
		return nil, mapErr(err)
	}
	names, err := loadContacts(st)
	if err != nil {
		return nil, mapErr(err)
	}
	convs := map[string]securestore.Conversation{}
	out := make([]SearchHit, 0, len(res.Hits))
	for _, m := range res.Hits {
		if len(out) == limit {
			break
		}
		if m.Extra[sync.ExtraAttachment] != "" || m.Extra[sync.ExtraAttachmentURL] != "" ||
			!recalledAt(m).IsZero() || unreadableText(m, "") != "" {
			continue
		}
		cv, ok := convs[m.ConversationID]
		if !ok {
			if cv, err = st.Conversation(m.ConversationID); err != nil {
				cv = securestore.Conversation{ID: m.ConversationID}
			}
			convs[m.ConversationID] = cv
		}
		var patient string
		if p := sync.PatientOf(m); p != nil {
			patient = PatientTag(*p).Label()
		}
		out = append(out, SearchHit{Patient: patient,
			Conversation: cv.ID, Title: conversationTitle(st, cv, names), IsRoom: cv.Kind == securestore.KindRoom,
			Message: m.ID, Sender: senderName(st, cv, m, names), Snippet: snippet(m.Body, q.Text),
			Timestamp: m.Timestamp, Time: cc.clockTime(m.Timestamp), Urgency: m.Urgency,
		})
	}
	return out, nil
}

// snippetRunes bounds a search hit's line.
const snippetRunes = 100

// snippet is the line of body holding the first query word (matched at the
// start of a word, any case), cut to about snippetRunes around it.
func snippet(body, query string) string {
	lines := strings.Split(strings.TrimSpace(body), "\n")
	qw := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	line, at := strings.TrimSpace(lines[0]), 0
	if len(qw) > 0 {
	find:
		for _, l := range lines {
			rs := []rune(l)
			for i := range rs {
				if i > 0 && (unicode.IsLetter(rs[i-1]) || unicode.IsDigit(rs[i-1])) {
					continue
				}
				if hasRunePrefixFold(rs[i:], []rune(qw[0])) {
					line, at = l, i
					break find
				}
			}
		}
	}
	rs := []rune(strings.TrimSpace(line))
	if len(rs) <= snippetRunes {
		return string(rs)
	}
	lead := strings.TrimLeft(line, " \t")
	at -= len([]rune(line)) - len([]rune(lead))
	start := max(0, min(at-snippetRunes/3, len(rs)-snippetRunes))
	out := string(rs[start:min(len(rs), start+snippetRunes)])
	if start > 0 {
		out = "…" + strings.TrimLeft(out, " ")
	}
	if start+snippetRunes < len(rs) {
		out = strings.TrimRight(out, " ") + "…"
	}
	return out
}

func hasRunePrefixFold(s, prefix []rune) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i, r := range prefix {
		if unicode.ToLower(s[i]) != r {
			return false
		}
	}
	return true
}

// ThreadAround returns the messages of conv from a few before message id to
// the newest, oldest first, and whether older ones exist: what a thread
// opened on a search hit draws (the conversation view then scrolls to id).
// It grows the page until id is in it, up to maxAround messages; past that
// it returns the latest page and false for found.
func (cc *conversations) ThreadAround(conv string, id MessageID) (rows []MessageRow, hasOlder, found bool, err error) {
	st, err := cc.host.unlocked()
	if err != nil {
		return nil, false, false, err
	}
	conv = jid.Bare(conv)
	const before, maxAround = 10, 20_000
	for n := 50; ; n *= 2 {
		n = min(n, maxAround)
		ms, err := st.Latest(conv, n)
		if err != nil {
			return nil, false, false, mapErr(err)
		}
		i := slices.IndexFunc(ms, func(m securestore.Message) bool { return m.ID == id })
		full := len(ms) == n // there may be older ones
		if i >= 0 || !full || n == maxAround {
			found, hasOlder = i >= 0, full
			if cut := i - before; cut > 0 {
				ms, hasOlder = ms[cut:], true
			}
			rows, err := cc.rows(st, conv, ms)
			return rows, hasOlder, found, err
		}
	}
}
