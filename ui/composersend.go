package ui

import (
	"errors"
	"strings"

	"rounds/app"
)

// Where the composer sends: the text goes to the app as a plain message or,
// with options chosen (composeroptions.go), as a clinical one; a refusal is
// shown under the composer and the text is kept.

// sendText sends the composer's text: a plain message, or a clinical one
// when a level, an acknowledgement or an order is chosen. The error (an
// order refused, say) is shown under the composer and the text is kept.
func (v *ConversationView) sendText(text string) error {
	ca, ok := v.clinicalActions()
	u := v.urgency()
	if !ok || v.clin.ack == nil || (u == app.UrgencyNormal && !v.clin.ack.Checked && !v.clin.order.Checked && v.pat.tag == nil) {
		return v.actions.Send(v.info.ID, text)
	}
	o := app.ClinicalOptions{Urgency: u, AckRequired: v.clin.ack.Checked || app.AckAlways(u), Order: v.clin.order.Checked,
		Patient: v.pat.tag}
	if _, err := ca.SendClinical(v.info.ID, text, o); err != nil {
		return err
	}
	v.resetOptions()
	return nil
}

// showComposerNote shows a line under the composer (a refusal, a failed
// response, an export's outcome) and lays the screen out again for it.
func (v *ConversationView) showComposerNote(text string) {
	v.sendErr.SetText(text)
	v.sendErr.Show()
	v.Refresh()
	v.Refresh() // a wrapped label knows its height once it has its width
}

// sendErrorText is the line under the composer for a refused send.
func sendErrorText(err error) string {
	if errors.Is(err, app.ErrNotOrderRecipient) {
		return "Order not sent: " + err.Error()
	}
	return "Not sent: " + err.Error()
}

func (v *ConversationView) submit() {
	text := strings.TrimSpace(v.composer.Text)
	if text == "" {
		return
	}
	if err := v.sendText(text); err != nil {
		v.showComposerNote(sendErrorText(err))
		return
	}
	v.sendErr.Hide()
	v.composer.SetText("")
}
