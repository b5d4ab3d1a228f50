package app

import (
	"errors"
	"strings"
	"time"

	"rounds/jid"
	"rounds/securestore"
)

// Per-conversation mute and drafts. Both are the user's, kept sealed in the
// store's settings (names HMACed, values sealed: docs/STORE.md), so they
// follow the profile and are gone with it.
//
// Mute silences routine messages only: an urgent or STAT message always
// notifies and rings (and raises its alert), muted or not. A muted
// conversation still counts unread.

const (
	settingMutePrefix  = "mute/"  // + conversation: RFC 3339 end, or "" = until unmuted
	settingDraftPrefix = "draft/" // + conversation: the text
)

// untilUnmuted is the stored end of a mute with no end.
const untilUnmuted = "-"

// MuteConversation silences routine notifications of conv until until
// (zero: until the user unmutes). Urgent and STAT still ring.
func (cc *conversations) MuteConversation(conv string, until time.Time) error {
	st, err := cc.host.unlocked()
	if err != nil {
		return err
	}
	v := untilUnmuted
	if !until.IsZero() {
		if !until.After(cc.clock.Now()) {
			return errors.New("a mute must end in the future")
		}
		v = until.UTC().Format(time.RFC3339)
	}
	if err := st.SetSetting(settingMutePrefix+jid.Bare(conv), []byte(v)); err != nil {
		return mapErr(err)
	}
	cc.changes.push(Change{Kind: InboxChanged})
	return nil
}

// UnmuteConversation ends a mute of conv.
func (cc *conversations) UnmuteConversation(conv string) error {
	st, err := cc.host.unlocked()
	if err != nil {
		return err
	}
	if err := st.DeleteSetting(settingMutePrefix + jid.Bare(conv)); err != nil {
		return mapErr(err)
	}
	cc.changes.push(Change{Kind: InboxChanged})
	return nil
}

// Muted says whether conv is muted now, and until when (zero: until
// unmuted).
func (cc *conversations) Muted(conv string) (bool, time.Time) {
	st, err := cc.host.unlocked()
	if err != nil {
		return false, time.Time{}
	}
	return muteOf(st, jid.Bare(conv), cc.clock.Now())
}

// muteOf reads conv's mute as of now; an ended or unreadable one is no mute.
func muteOf(st *securestore.Store, conv string, now time.Time) (bool, time.Time) {
	raw, err := st.Setting(settingMutePrefix + conv)
	if err != nil {
		return false, time.Time{}
	}
	return muteActive(string(raw), now)
}

func muteActive(raw string, now time.Time) (bool, time.Time) {
	if raw == untilUnmuted {
		return true, time.Time{}
	}
	until, err := time.Parse(time.RFC3339, raw)
	if err != nil || !until.After(now) {
		return false, time.Time{}
	}
	return true, until
}

// SaveDraft keeps text as conv's unsent draft (blank text deletes it). The
// composer saves as the user types and when they leave the conversation;
// the text is kept exactly as typed.
func (cc *conversations) SaveDraft(conv, text string) error {
	st, err := cc.host.unlocked()
	if err != nil {
		return err
	}
	conv = jid.Bare(conv)
	name := settingDraftPrefix + conv
	before := draftPreview(st, conv)
	if strings.TrimSpace(text) == "" {
		err = st.DeleteSetting(name)
	} else if len([]rune(text)) > MaxMessageRunes {
		return ErrMessageTooLong
	} else {
		err = st.SetSetting(name, []byte(text))
	}
	if err != nil {
		return mapErr(err)
	}
	if draftPreview(st, conv) != before {
		cc.changes.push(Change{Kind: InboxChanged}) // the row says "Draft: …"
	}
	return nil
}

// draftPreview is the first line of conv's draft for its inbox row, ""
// when none.
func draftPreview(st *securestore.Store, conv string) string {
	raw, err := st.Setting(settingDraftPrefix + conv)
	if err != nil {
		return ""
	}
	return previewText(string(raw))
}

// Draft is conv's saved draft, "" when none.
func (cc *conversations) Draft(conv string) string {
	st, err := cc.host.unlocked()
	if err != nil {
		return ""
	}
	raw, err := st.Setting(settingDraftPrefix + jid.Bare(conv))
	if err != nil {
		return ""
	}
	return string(raw)
}
