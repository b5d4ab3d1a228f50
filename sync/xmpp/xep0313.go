package xmpp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// XEP-0313 Message Archive Management (mam:2) with XEP-0059 Result Set
// Management: catch up after being offline, 1:1 and group.
//
// Archived messages arrive as <message><result queryid id><forwarded/></result>
// </message> stanzas before the iq result of the query. They are forwards, so
// they are accepted only from the archive's owner (our own bare JID, or the
// room's bare JID): anyone else could otherwise inject history into the
// record. Results never reach Config.OnMessage.
const (
	NSMAM      = "urn:xmpp:mam:2"
	NSRSM      = "http://jabber.org/protocol/rsm"
	NSDataForm = "jabber:x:data"
)

// ErrArchiveCursorGone: the archive no longer knows the After id (it expired
// or was purged). Start again from the beginning (After "").
var ErrArchiveCursorGone = errors.New("xmpp: archive cursor no longer in the archive")

// ArchiveQuery is one page request.
type ArchiveQuery struct {
	Archive string // "" = the user's own archive; else a room's bare JID
	After   string // RSM <after>: the last stanza-id we have ("" = from the start)
	Max     int    // RSM <max> page size (Prosody caps at 250); <= 0: server default
	With    string // optional filter (user archive only)
	// Before is RSM <before>: the page of (at most Max) results just
	// before this id, in archive order. Not used together with After.
	Before string
}

// ArchivedMessage is one result of a query.
type ArchivedMessage struct {
	ID        string    // the archive's id for it (<result id>), == its stanza-id
	Timestamp time.Time // from the <forwarded><delay stamp> (zero if absent)
	Message   *Message  // the forwarded message, parsed with ParseMessage (Carbon=NotCarbon)
}

// ArchivePage is the answer to one query, results in archive order.
type ArchivePage struct {
	Results  []ArchivedMessage
	Complete bool   // <fin complete="true">
	Last     string // RSM <last> of this page ("" if empty)
}

// maxUnboundedResults caps a page when the query set no Max, so a hostile or
// broken server cannot grow one query without bound.
const maxUnboundedResults = 1000

// mamState tracks the queries in flight, by queryid.
type mamState struct {
	mu      sync.Mutex
	pending map[string]*mamQuery
}

type mamQuery struct {
	owner    string // bare JID allowed to send results; "" = our own account
	limit    int
	results  []ArchivedMessage
	overflow bool
	// bytes counts the frames the results hold; past maxPageBytes the page
	// is cut after the last result kept (full), see keep.
	bytes int64
	full  bool
}

// maxPageBytes bounds the memory one archive page holds. With frames of up
// to Limits.MaxFrameBytes (2 MiB), a page of 250 could otherwise hold half a
// gigabyte; a phone should not. A page that reaches it is handed up cut
// after the last result kept, marked incomplete with that result's id as
// its <last>, so the next query starts right after it and nothing is
// skipped. The first result of a page is always kept, so paging progresses.
const maxPageBytes = 16 << 20

// keep reports whether a result of size bytes still fits the page; once
// one does not, none after it is kept either (the page must stay a prefix
// of the archive). c.mam.mu is held.
func (mq *mamQuery) keep(size int64) bool {
	if mq.full || len(mq.results) > 0 && mq.bytes+size > maxPageBytes {
		mq.full = true
		return false
	}
	mq.bytes += size
	return true
}

// registerExtensions installs the routes of the XEPs built on top of the
// core: MAM results, MUC join tracking, XEP-0490 notifications.
func (c *Client) registerExtensions() {
	c.HandleMessage(NSMAM, c.handleMAMResult)
	c.HandlePresence("", c.handleMUCPresence)
	c.HandleMessage(NSPubSubEvent, c.handlePEPEvent)
	c.HandleMessage(NSPubSubEvent, c.handleDNDEvent)
	c.HandleMessage(NSPubSubEvent, c.handleVCardEvent)
	c.HandleMessage(NSPubSubEvent, c.handleAvatarEvent)
	c.HandleMessage(NSPubSubEvent, c.handleBookmarksEvent)
	if c.cfg.OnBookmarks != nil {
		c.cfg.Disco.Features = append(append([]string(nil), c.cfg.Disco.Features...), BookmarksNotify)
	}
	if c.cfg.OnVCard != nil {
		c.cfg.Disco.Features = append(append([]string(nil), c.cfg.Disco.Features...), VCardNotify)
	}
	if c.cfg.OnAvatar != nil {
		c.cfg.Disco.Features = append(append([]string(nil), c.cfg.Disco.Features...), AvatarNotify)
	}
	if c.cfg.OnDisplayedSync != nil {
		// PEP notifies the resources whose caps carry +notify (XEP-0163 §4).
		c.cfg.Disco.Features = append(append([]string(nil), c.cfg.Disco.Features...), NSMDS+"+notify")
	}
	if c.cfg.OnDND != nil {
		c.cfg.Disco.Features = append(append([]string(nil), c.cfg.Disco.Features...), NSDND+"+notify")
	}
}

// QueryArchive fetches one page of an archive. Results whose wrapper does not
// come from the archive's owner are dropped (logged without content). If the
// server no longer has q.After, the error is ErrArchiveCursorGone.
func (c *Client) QueryArchive(ctx context.Context, q ArchiveQuery) (ArchivePage, error) {
	owner := ""
	if q.Archive != "" {
		owner = BareJID(q.Archive)
		if owner == "" {
			return ArchivePage{}, fmt.Errorf("xmpp: archive %q is not a JID", q.Archive)
		}
		if owner == c.account.String() {
			owner = "" // our own archive, addressed explicitly
		}
	}
	qid := randomID()
	form := dataForm(NSMAM)
	if q.With != "" {
		form.Append(formField("with", q.With))
	}
	set := NewElement(NSRSM, "set")
	limit := maxUnboundedResults
	if q.Max > 0 {
		set.Append(NewElement(NSRSM, "max").SetText(strconv.Itoa(q.Max)))
		limit = q.Max
	}
	if q.Before != "" {
		set.Append(NewElement(NSRSM, "before").SetText(q.Before))
	}
	if q.After != "" {
		set.Append(NewElement(NSRSM, "after").SetText(q.After))
	}
	iq := NewElement(NSClient, "iq", "type", "set", "to", owner).Append(
		NewElement(NSMAM, "query", "queryid", qid).Append(form, set))

	mq := &mamQuery{owner: owner, limit: limit}
	c.mam.mu.Lock()
	if c.mam.pending == nil {
		c.mam.pending = map[string]*mamQuery{}
	}
	c.mam.pending[qid] = mq
	c.mam.mu.Unlock()
	res, err := c.SendIQ(ctx, iq)
	c.mam.mu.Lock()
	delete(c.mam.pending, qid)
	results, overflow, full := mq.results, mq.overflow, mq.full
	c.mam.mu.Unlock()
	if err != nil {
		var se *StanzaError
		if (q.After != "" || q.Before != "") && errors.As(err, &se) && se.Condition == "item-not-found" {
			return ArchivePage{}, fmt.Errorf("%w: %w", ErrArchiveCursorGone, err)
		}
		return ArchivePage{}, err
	}
	if overflow {
		// Handing up a truncated page with the server's <last> would skip
		// messages: refuse the page instead.
		return ArchivePage{}, fmt.Errorf("%w: archive sent more than %d results", ErrProtocol, limit)
	}
	fin := res.Child(NSMAM, "fin")
	if fin == nil {
		return ArchivePage{}, fmt.Errorf("%w: MAM answer without <fin/>", ErrProtocol)
	}
	page := ArchivePage{Results: results, Complete: fin.Attr("complete") == "true" || fin.Attr("complete") == "1"}
	page.Last = fin.Child(NSRSM, "set").ChildText(NSRSM, "last")
	if len(results) > 0 && page.Last == "" {
		return ArchivePage{}, fmt.Errorf("%w: MAM page with results but no RSM <last>", ErrProtocol)
	}
	if full {
		// Cut at maxPageBytes: the page ends at the last result kept (a MAM
		// result's id is its RSM id, XEP-0313 §4.1.2).
		page.Complete, page.Last = false, results[len(results)-1].ID
	}
	return page, nil
}

// handleMAMResult collects a result for its query. It consumes every message
// carrying a MAM <result>: results never reach OnMessage, genuine or not.
func (c *Client) handleMAMResult(st *Element) bool {
	r := st.Child(NSMAM, "result")
	if r == nil {
		return false // some other mam:2 child (e.g. a <fin/> in a message): not ours
	}
	qid := r.Attr("queryid")
	c.mam.mu.Lock()
	defer c.mam.mu.Unlock()
	mq := c.mam.pending[qid]
	if mq == nil || qid == "" {
		c.log.Warn("xmpp: dropping MAM result for an unknown query", "from", st.From())
		return true
	}
	if !c.fromArchiveOwner(st.From(), mq.owner) {
		c.log.Warn("xmpp: dropping spoofed MAM result", "err", ErrSpoofed, "from", st.From(), "archive", mq.owner)
		return true
	}
	fwd := r.Child(NSForward, "forwarded")
	inner := fwd.Child(NSClient, "message")
	id := r.Attr("id")
	if inner == nil || id == "" {
		c.log.Warn("xmpp: dropping MAM result without id or forwarded message", "from", st.From())
		return true
	}
	if len(mq.results) >= mq.limit {
		mq.overflow = true
		return true
	}
	if !mq.keep(int64(len(st.Raw))) {
		return true
	}
	m := ParseMessage(inner)
	m.Carbon = NotCarbon
	mq.results = append(mq.results, ArchivedMessage{ID: id, Timestamp: ParseDelay(fwd).Stamp, Message: m})
	return true
}

// fromArchiveOwner: results from our own archive come with no from or our
// bare JID; a room's results from the room's bare JID (never an occupant).
// It runs once per archived message: it compares parts instead of building
// bare JID strings.
func (c *Client) fromArchiveOwner(from, owner string) bool {
	if owner == "" && from == "" {
		return true
	}
	j, err := ParseJID(from)
	if err != nil || j.Resource != "" {
		return false
	}
	if owner == "" {
		return j.Local == c.account.Local && j.Domain == c.account.Domain
	}
	if j.Local == "" {
		return owner == j.Domain
	}
	return len(owner) == len(j.Local)+1+len(j.Domain) && owner[len(j.Local)] == '@' &&
		strings.HasPrefix(owner, j.Local) && strings.HasSuffix(owner, j.Domain)
}

func hasResource(s string) bool {
	j, err := ParseJID(s)
	return err != nil || j.Resource != ""
}

// dataForm starts a submitted XEP-0004 form with a hidden FORM_TYPE.
func dataForm(formType string) *Element {
	return NewElement(NSDataForm, "x", "type", "submit").Append(
		NewElement(NSDataForm, "field", "var", "FORM_TYPE", "type", "hidden").Append(
			NewElement(NSDataForm, "value").SetText(formType)))
}

func formField(name, value string) *Element {
	return NewElement(NSDataForm, "field", "var", name).Append(NewElement(NSDataForm, "value").SetText(value))
}
