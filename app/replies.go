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
type QuotedView struct {
	ID      MessageID
	Sender  string
	Snippet string // its first line, shortened; "Message recalled" when it was
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
func (c *Client) Reply(conv string, to MessageID, text string, o ClinicalOptions) (Sent, error) {
	st, err := c.unlocked()
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
		o.replyAuthor = localPart(c.Account())
	}
	o.Role = ""
	return c.SendClinical(conv, text, o)
}

// React adds emoji to the user's reactions to message id of conv, or takes
// it away when it is there already (a tap on a reaction toggles it).
func (c *Client) React(conv string, id MessageID, emoji string) error {
	st, s, err := c.sess()
	if err != nil {
		return err
	}
	m, err := st.Message(id)
	if err != nil {
		return mapErr(err)
	}
	var mine []string
	if r, ok := securestore.Reactions(m)[jid.Bare(c.Account())]; ok {
		mine = slices.Clone(r.Values)
	}
	if i := slices.Index(mine, emoji); i >= 0 {
		mine = slices.Delete(mine, i, i+1)
	} else {
		mine = append(mine, emoji)
	}
	c.Touch()
	err = s.React(conv, id, mine)
	if errors.Is(err, sync.ErrReactionOffline) {
		return ErrReactionNotSent
	}
	return mapErr(err)
}

// replyRows fills a row's quoted message and reactions.
func replyRows(st *securestore.Store, cv securestore.Conversation, m securestore.Message, names contactNames, r *MessageRow) {
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

// isAccount: author names this store's account.
func isAccount(st *securestore.Store, author string) bool {
	acc, err := st.Account()
	return err == nil && jid.Bare(acc.JID) == author
}

// replyLines are the thread's words for what a reply answers and the
// reactions: "Reply to Dr Osei: “Bed 4 K+ 6.1”" and "👍 2 (you) · ✅ 1".
func replyLines(r MessageRow) []string {
	var out []string
	if q := r.ReplyTo; q != nil {
		out = append(out, "Reply to "+q.Sender+": “"+q.Snippet+"”")
	}
	if len(r.Reactions) > 0 {
		parts := make([]string, 0, len(r.Reactions))
		for _, v := range r.Reactions {
			p := v.Emoji + " " + strconv.Itoa(v.Count)
			if v.Mine {
				p += " (you)"
			}
			parts = append(parts, p)
		}
		out = append(out, strings.Join(parts, " · "))
	}
	return out
}
