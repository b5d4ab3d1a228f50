package app

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"
	"time"
	"unicode/utf8"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// attention is what the user is looking at and what they were already told:
// the open conversation, window focus, whether the app is in the background,
// and the notifications still showing; and the service that notifies. Its
// state is guarded by Client.mu (mu points at it), not a lock of its own:
// the lifecycle and locked listening read and reset it under that one lock
// with the store. It reaches the rest of the Client through attentionHost,
// never holding mu except for the host's …Locked methods. Client embeds
// it, so SetOpenConversation is Client's facade without a line of its own.
type attention struct {
	open     string
	focused  bool
	bg       bool
	notified map[string]notice

	mu       *gosync.Mutex // Client.mu
	log      *slog.Logger
	clock    Clock
	notifier Notifier
	sound    Sound
	host     attentionHost
}

// attentionHost is what notifications ask of the rest of the Client: the
// account (client.go; takes Client.mu), whether a store is open
// (hosts.go), and the policy's preview level and level names (prefs.go,
// policy.go); the …Locked methods expect Client.mu held.
type attentionHost interface {
	Account() string
	storeLocked() *securestore.Store
	previewLocked() PreviewLevel
	policyLocked() Policy
}

// notice remembers a notification on show, so a burst updates nothing and
// rings once instead of once per message.
type notice struct {
	at     time.Time
	urgent bool
}

// renotifyAfter: a conversation whose notification is still showing is
// notified again (replacing it, with a sound) only after this quiet time, or
// at once when an urgent message follows normal ones.
const renotifyAfter = 30 * time.Second

// SetOpenConversation tells the app which conversation the user has open and
// whether its window has focus; new messages there raise no notification,
// and opening it focused withdraws its notification.
func (a *attention) SetOpenConversation(conv string, focused bool) {
	conv = jid.Bare(conv)
	a.mu.Lock()
	a.open, a.focused = conv, focused
	a.mu.Unlock()
	if conv != "" && focused {
		a.clearNotification(conv)
	}
}

func (a *attention) viewing(conv string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return conv != "" && a.open == conv && a.focused && !a.bg
}

func (a *attention) clearNotification(conv string) {
	a.mu.Lock()
	_, shown := a.notified[conv]
	delete(a.notified, conv)
	a.mu.Unlock()
	if shown {
		a.notifier.Clear(conv)
	}
}

func (a *attention) shownNotifications() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.notified))
	for conv := range a.notified {
		out = append(out, conv)
	}
	return out
}

// notifyAlert shows an alert's notification (clinicalHost): the
// conversation counts as notified (urgent), and a silent alert (routine,
// ack asked) notifies as urgent.
func (a *attention) notifyAlert(st *securestore.Store, cv securestore.Conversation, m securestore.Message, al Alert) {
	now := a.clock.Now()
	a.mu.Lock()
	if a.host.storeLocked() == st {
		a.notified[al.Conversation] = notice{at: now, urgent: true}
	}
	a.mu.Unlock()
	n := a.notification(st, cv, 1, max(m.Urgency, securestore.UrgencyHigh), m)
	n.Message, n.AckRequired = al.Message, al.AckRequired
	a.notifier.Notify(n)
}

// notifyExcept raises at most one notification per conversation for a batch
// of stored messages: only incoming ones, never for the conversation in view
// nor for those an urgent alert already notified (skip, alerts.go), and for
// catch-up only where something is still unread.
func (a *attention) notifyExcept(st *securestore.Store, msgs []securestore.Message, catchUp bool, skip map[string]bool) {
	type group struct {
		n       int
		urgent  bool
		urgency securestore.Urgency // the batch's highest level
		last    securestore.Message
		// mentioned: a message names this user (XEP-0372): it notifies
		// in a muted conversation too, and says so; by is the newest such.
		mentioned bool
		by        securestore.Message
	}
	var order []string
	groups := map[string]*group{}
	for _, m := range msgs {
		if m.Direction != securestore.Incoming || skip[m.ConversationID] {
			continue
		}
		g := groups[m.ConversationID]
		if g == nil {
			g = &group{}
			groups[m.ConversationID] = g
			order = append(order, m.ConversationID)
		}
		g.n++
		g.urgent = g.urgent || m.Urgency >= securestore.UrgencyHigh
		g.urgency = max(g.urgency, m.Urgency)
		g.last = m
		if slices.Contains(sync.Mentions(m), jid.Bare(a.host.Account())) {
			g.mentioned, g.by = true, m
		}
	}
	for _, conv := range order {
		g := groups[conv]
		if a.viewing(conv) {
			continue
		}
		cv, err := st.Conversation(conv)
		if err != nil || (catchUp && cv.Unread == 0) {
			continue
		}
		if muted, _ := muteOf(st, conv, a.clock.Now()); muted && !g.urgent && !g.mentioned {
			continue // mute.go: routine only; urgent and mentions always notify
		}
		now := a.clock.Now()
		a.mu.Lock()
		prev, shown := a.notified[conv]
		quiet := shown && now.Sub(prev.at) < renotifyAfter && !(g.urgent && !prev.urgent)
		if !quiet && a.host.storeLocked() != nil {
			a.notified[conv] = notice{at: now, urgent: g.urgent || (shown && prev.urgent)}
		}
		a.mu.Unlock()
		if quiet {
			continue
		}
		n := a.notification(st, cv, g.n, g.urgency, g.last)
		if g.mentioned && !g.urgent {
			n = a.mentionNotification(st, cv, n, g.by)
		}
		a.notifier.Notify(n)
		a.sound.NewMessage(g.urgent)
		a.log.Info("app: notified", "urgent", g.urgent, "catch_up", catchUp)
	}
}

// notification builds what the OS shows, per Policy.Preview. By default it
// names the sender or room and never carries message text. urgency is the
// highest level among the messages it announces (last is the newest); urgent
// and STAT make it an urgent notification named by the level.
func (a *attention) notification(st *securestore.Store, cv securestore.Conversation, n int, urgency securestore.Urgency, last securestore.Message) Notification {
	urgent := urgency >= securestore.UrgencyHigh
	out := Notification{ConversationID: cv.ID, Title: "Rounds", Urgent: urgent}
	a.mu.Lock()
	level := a.host.previewLocked()
	levels := a.host.policyLocked().Levels
	a.mu.Unlock()
	what := "New message"
	if urgent {
		// The level's configured name: "STAT message in ICU team".
		out.Level = levels.Name(urgency)
		what = out.Level + " message"
	} else if n > 1 {
		what = "New messages"
	}
	switch level {
	case PreviewNone:
		out.Body = what
	case PreviewContent:
		name := conversationTitle(st, cv, nil)
		if cv.Kind == securestore.KindRoom {
			name = senderName(st, cv, last, nil) + " in " + name
		}
		out.Title = name
		out.Body = previewText(withoutFileKeys(last.Body))
		if p := attachmentPreview(st, last); p != "" {
			out.Body = p // never a file's link: it carries the file's key
		}
		if t := unreadableText(last, senderName(st, cv, last, nil)); t != "" {
			out.Body = previewText(t)
		}
		if sync.PatientOf(last) != nil || last.Extra[sync.ExtraPatientRefused] != "" {
			// patient.go: never the tag, nor the text about it; a tag that
			// could not be read left its patient line in the body.
			out.Body = PatientHidden
		}
		if from := last.Extra[sync.ExtraForwardedFrom]; from != "" {
			// A forward's words are someone else's: under the forwarder's
			// name they read as the forwarder's own (dnd.go ForwardView).
			who := "someone not named"
			if from != "?" {
				who = memberName(st, from, nil)
			}
			out.Body = previewText("Forwarded from " + who + ": " + out.Body)
		}
		if urgent {
			out.Body = strings.ToUpper(levels.Name(urgency)) + ": " + out.Body
		}
	default: // PreviewSender
		name := conversationTitle(st, cv, nil)
		if cv.Kind == securestore.KindRoom {
			out.Body = fmt.Sprintf("%s in %s", what, name)
		} else {
			out.Body = fmt.Sprintf("%s from %s", what, name)
		}
	}
	return out
}

// mentionNotification words n (routine) as the mention it is: "Dr Bob
// mentioned you in ICU team" by default, with the text only where the
// policy shows content, and nothing but "You were mentioned" where it
// shows none. The name is the one the thread gives the sender.
func (a *attention) mentionNotification(st *securestore.Store, cv securestore.Conversation, n Notification, by securestore.Message) Notification {
	a.mu.Lock()
	level := a.host.previewLocked()
	a.mu.Unlock()
	who := senderName(st, cv, by, nil)
	if cv.Kind == securestore.KindRoom {
		who += " mentioned you in " + conversationTitle(st, cv, nil)
	} else {
		who += " mentioned you"
	}
	switch level {
	case PreviewNone:
		n.Body = "You were mentioned"
	case PreviewContent:
		n.Title = who
	default:
		n.Body = who
	}
	return n
}

// previewRunes bounds previews (inbox rows, content notifications).
const previewRunes = 80

// previewText is the first non-empty line, at most 80 runes.
func previewText(body string) string {
	body = strings.TrimSpace(body)
	if i := strings.IndexAny(body, "\r\n"); i >= 0 {
		body = strings.TrimSpace(body[:i])
	}
	if utf8.RuneCountInString(body) <= previewRunes {
		return body
	}
	r := []rune(body)
	return strings.TrimSpace(string(r[:previewRunes-1])) + "…"
}
