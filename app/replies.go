package app

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// QuotedView is the message a reply answers, as quoted above the reply.
// The quote is drawn from the message as stored here, never from the quote
// the reply carried (the sender's quote may say anything); only when the
// original is not on this device does it show the sender's quote, marked
// as theirs (FromSender).
type QuotedView struct {
	// ID is the original here; 0 when it is not on this device (not
	// received, removed by retention, or of another conversation).
	ID      MessageID
	Sender  string
	Snippet string // its first line, shortened; "Message recalled" when it was
	// FromSender: the original is not on this device; Snippet is the quote
	// the sender sent with the reply ("" when they sent none) and Sender
	// the name their quote gives, if any.
	FromSender bool
}

// ReactionView is one emoji under a message: how many gave it, whether the
// user did, and who (display names, for a long press or hover).
type ReactionView struct {
	Emoji string
	Count int
	Mine  bool
	Who   []string
}

// QuickReactions are the reactions the thread offers in one tap.
var QuickReactions = []string{"👍", "✅", "👀", "❤️", "🙏"}

// ErrReactionNotSent: the reaction is kept on this device but the others
// do not see it (offline); try again when back online.
var ErrReactionNotSent = errors.New("not connected: your reaction is shown here only")

// Reply sends text as a reply to message to of conv (XEP-0461, with a
// quote other clients show). The message answered must be in conv.
func (cc *conversations) Reply(conv string, to MessageID, text string, o ClinicalOptions) (Sent, error) {
	st, err := cc.host.unlocked()
	if err != nil {
		return Sent{}, err
	}
	conv = jid.Bare(conv)
	t, err := st.Message(to)
	if err != nil {
		return Sent{}, mapErr(err)
	}
	if t.ConversationID != conv {
		return Sent{}, sync.ErrReplyElsewhere
	}
	cv, err := st.Conversation(conv)
	if err != nil {
		cv = securestore.Conversation{ID: conv}
	}
	names, _ := loadContacts(st)
	o.ReplyTo, o.replyAuthor = to, senderName(st, cv, t, names)
	if o.replyAuthor == "You" {
		o.replyAuthor = localPart(cc.host.Account())
	}
	o.Role = ""
	return cc.clin.send(conv, text, o)
}

// React adds emoji to the user's reactions to message id of conv, or takes
// it away when it is there already (a tap on a reaction toggles it).
func (cc *conversations) React(conv string, id MessageID, emoji string) error {
	st, s, err := cc.host.sess()
	if err != nil {
		return err
	}
	m, err := st.Message(id)
	if err != nil {
		return mapErr(err)
	}
	var mine []string
	if r, ok := securestore.Reactions(m)[jid.Bare(cc.host.Account())]; ok {
		mine = slices.Clone(r.Values)
	}
	if i := slices.Index(mine, emoji); i >= 0 {
		mine = slices.Delete(mine, i, i+1)
	} else {
		mine = append(mine, emoji)
	}
	cc.host.Touch()
	err = s.React(conv, id, mine)
	if errors.Is(err, sync.ErrReactionOffline) {
		return ErrReactionNotSent
	}
	return mapErr(err)
}

// replyRows fills a row's quoted message and reactions.
func replyRows(st *securestore.Store, cv securestore.Conversation, m securestore.Message, names contactNames, r *MessageRow) {
	r.MentionsMe = mentionsOfMe(st, m)
	if raw := m.Extra[sync.ExtraReplyToID]; raw != "" {
		if n, err := strconv.ParseUint(raw, 10, 64); err == nil {
			if t, err := st.Message(securestore.MessageID(n)); err == nil && t.ConversationID == m.ConversationID {
				q := &QuotedView{ID: t.ID, Sender: senderName(st, cv, t, names), Snippet: previewText(t.Body)}
				if !recalledAt(t).IsZero() {
					q.Snippet = "Message recalled"
				}
				r.ReplyTo = q
			}
		}
	}
	if r.ReplyTo == nil && m.Extra[sync.ExtraReplyTo] != "" && m.Direction == securestore.Incoming {
		r.ReplyTo = senderQuoted(m, r)
	}
	all := securestore.Reactions(m)
	if len(all) == 0 {
		return
	}
	authors := make([]string, 0, len(all))
	for a := range all {
		authors = append(authors, a)
	}
	slices.SortFunc(authors, func(a, b string) int { return all[a].At.Compare(all[b].At) })
	for _, a := range authors {
		for _, e := range all[a].Values {
			i := slices.IndexFunc(r.Reactions, func(v ReactionView) bool { return v.Emoji == e })
			if i < 0 {
				r.Reactions = append(r.Reactions, ReactionView{Emoji: e})
				i = len(r.Reactions) - 1
			}
			v := &r.Reactions[i]
			v.Count++
			who := memberName(st, a, names)
			if cv.Kind == securestore.KindChat && a == cv.ID {
				who = conversationTitle(st, cv, names) // as the thread names the peer
			}
			if isAccount(st, a) {
				v.Mine, who = true, "You"
			}
			v.Who = append(v.Who, who)
		}
	}
}

// senderQuoted is the quoted view of a reply whose original is not here:
// the quote its sender marked (their words, shown as theirs), and the row's
// text without it. A recalled or otherwise rewritten row keeps its text.
func senderQuoted(m securestore.Message, r *MessageRow) *QuotedView {
	q := &QuotedView{FromSender: true}
	quote, own := sync.SenderQuote(m)
	if strings.TrimSpace(quote) == "" || strings.TrimSpace(own) == "" || r.Body != m.Body {
		return q
	}
	r.Body = own
	var lines []string
	for _, l := range strings.Split(quote, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), ">"))
		if l == "" {
			continue
		}
		if name, ok := strings.CutSuffix(l, " wrote:"); ok && len(lines) == 0 && q.Sender == "" {
			q.Sender = name // "> Dr Osei wrote:", as Rounds and others quote
			continue
		}
		lines = append(lines, l)
	}
	q.Snippet = previewText(strings.Join(lines, " "))
	return q
}

// mentionsOfMe are the words by which m mentions this store's account.
func mentionsOfMe(st *securestore.Store, m securestore.Message) []string {
	if m.Direction != securestore.Incoming || m.Extra[sync.ExtraMentions] == "" {
		return nil
	}
	acc, err := st.Account()
	if err != nil {
		return nil
	}
	me := jid.Bare(acc.JID)
	if !slices.Contains(sync.Mentions(m), me) {
		return nil
	}
	if w := sync.MentionWords(m, me); len(w) > 0 {
		return w
	}
	return []string{"@" + localPart(me)} // the range was not one word: the usual spelling
}

// isAccount: author names this store's account.
func isAccount(st *securestore.Store, author string) bool {
	acc, err := st.Account()
	return err == nil && jid.Bare(acc.JID) == author
}

// OriginalNotHere is what tapping a quote says when the message it quotes
// is not on this device.
const OriginalNotHere = "Original not on this device"

// Heading is the line above a quote: who wrote the original, or that the
// quote is the sender's own because the original is not here.
func (q QuotedView) Heading() string {
	switch {
	case !q.FromSender:
		return q.Sender
	case q.Sender != "":
		return q.Sender + " · as quoted by the sender"
	}
	return "Quoted by the sender"
}

// Text is the quote's line: the original's first line, or the sender's
// quote, or what stands for a quote that is neither.
func (q QuotedView) Text() string {
	if q.Snippet == "" && q.FromSender {
		return "A message not on this device"
	}
	return q.Snippet
}

// Label is a reaction chip's words: "👍 2".
func (v ReactionView) Label() string { return v.Emoji + " " + strconv.Itoa(v.Count) }

// WhoLine names who gave a reaction: "👍 Dr Osei, You".
func (v ReactionView) WhoLine() string { return v.Emoji + " " + strings.Join(v.Who, ", ") }
