package securestore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Recall (XEP-0424 retraction) and correction (XEP-0308) of stored messages.
// Both rewrite the message in place, re-sealed under the key of the period it
// already belongs to (its timestamp does not change), so crypto-shredding that
// period still removes every version.

// Extra keys written here (the sync engine re-exports them).
const (
	// ExtraRetracted is the RFC 3339 time the message was recalled; its body,
	// history and attachments are gone, the row stays as a tombstone.
	ExtraRetracted = "retracted"
	// ExtraCorrected is the RFC 3339 time of the latest correction.
	ExtraCorrected = "corrected"
	// ExtraHistory is a JSON array of the prior versions, oldest first.
	ExtraHistory = "history"
	// ExtraEditPending marks one of our own messages whose retraction or
	// correction is still to be sent: "retract:<id>" or "correct:<id>", where
	// id is the edit stanza's origin-id. The message is on the Outbox while it
	// is set.
	ExtraEditPending = "edit-pending"
)

// BodyVersion is one earlier text of a corrected message.
type BodyVersion struct {
	Body string    `json:"body"`
	At   time.Time `json:"at"`
	// ID is the origin-id of the correction that replaced this text ("" for
	// corrections made without one); it makes replays idempotent.
	ID string `json:"id,omitempty"`
}

// History returns the earlier texts of m, oldest first (nil when never
// corrected or unreadable).
func History(m Message) []BodyVersion {
	raw := m.Extra[ExtraHistory]
	if raw == "" {
		return nil
	}
	var h []BodyVersion
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		return nil
	}
	return h
}

// PendingEdit reports the retraction or correction of m still to be sent:
// kind "retract" or "correct" and the edit's origin-id, or "", "".
func PendingEdit(m Message) (kind, editID string) {
	kind, editID, ok := strings.Cut(m.Extra[ExtraEditPending], ":")
	if !ok {
		return "", ""
	}
	return kind, editID
}

// editMessage loads message id, lets fn change it, and rewrites it when fn
// reports a change. fn runs inside the write transaction.
func (s *Store) editMessage(id MessageID, fn func(tx *bbolt.Tx, m *Message) (bool, error)) (bool, error) {
	changed := false
	var pending map[uint64]*periodKey
	err := s.updateThen(func(tx *bbolt.Tx) error {
		changed = false
		pending = map[uint64]*periodKey{}
		key := be64(uint64(id))
		v := tx.Bucket(bucketMsg).Get(key)
		if v == nil {
			return ErrNotFound
		}
		m, err := s.openMessage(tx, key, v, pending)
		if err != nil {
			return err
		}
		if m.Extra == nil {
			m.Extra = map[string]string{}
		}
		if changed, err = fn(tx, &m); err != nil || !changed {
			return err
		}
		return s.rewriteMessage(tx, &m, pending)
	}, func() { s.publishKeys(pending) })
	return changed, err
}

// Retract turns a message into a tombstone recalled at at: the body, the
// history of corrections and the attachments' metadata (with their keys) are
// removed; the row, its ids, receipts and ExtraRetracted stay, so the thread
// can show "message recalled at 14:02". Retracting twice changes nothing and
// reports false.
func (s *Store) Retract(id MessageID, at time.Time) (bool, error) {
	var files []string
	changed, err := s.editMessage(id, func(tx *bbolt.Tx, m *Message) (bool, error) {
		return s.retract(tx, m, at, &files)
	})
	if err == nil {
		s.unlinkVaultFiles(files)
	}
	return changed, err
}

func (s *Store) retract(tx *bbolt.Tx, m *Message, at time.Time, files *[]string) (bool, error) {
	if m.Extra[ExtraRetracted] != "" {
		return false, nil
	}
	m.Body = ""
	delete(m.Extra, ExtraHistory)
	delete(m.Extra, ExtraCorrected)
	// Links of shared files carry their key (aesgcm://…#key): the
	// attachment fields go with the body.
	for k := range m.Extra {
		if strings.HasPrefix(k, "attachment") {
			delete(m.Extra, k)
		}
	}
	m.Extra[ExtraRetracted] = at.UTC().Format(time.RFC3339)
	var err error
	*files, err = s.deleteAttachments(tx, m.ID)
	return true, err
}

// unlinkVaultFiles removes vault files whose records a committed transaction
// deleted.
func (s *Store) unlinkVaultFiles(names []string) {
	for _, n := range names {
		p := filepath.Join(s.vaultDir(), n)
		if os.Remove(p) == nil {
			syncDir(p)
		}
	}
}

// deleteAttachments removes a message's attachment records, their id index
// and their vault records; it returns the vault file names to unlink once the
// transaction committed.
func (s *Store) deleteAttachments(tx *bbolt.Tx, id MessageID) ([]string, error) {
	prefix := be64(uint64(id))
	b := tx.Bucket(bucketAttach)
	blobs := tx.Bucket(bucketBlob)
	var keys [][]byte
	var files []string
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		keys = append(keys, clone(k))
		if a, err := s.openAttachment(tx, k, v, nil); err == nil {
			if err := tx.Bucket(bucketAttachID).Delete(s.mac(tagAttach, a.ID)); err != nil {
				return nil, err
			}
		}
		if blobs != nil {
			if bv := blobs.Get(k); bv != nil {
				if rec, err := s.openBlobRecord(tx, k, bv, nil); err == nil {
					files = append(files, rec.name)
				}
			}
		}
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
		if blobs != nil {
			if err := blobs.Delete(k); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

// Correct replaces a message's body with body at time at, keeping the prior
// text in its history. A correction to the text it already has, or of a
// recalled message, changes nothing and reports false.
func (s *Store) Correct(id MessageID, body string, at time.Time) (bool, error) {
	return s.ApplyCorrection(id, "", body, at)
}

// ApplyCorrection is Correct for a correction that has an id (the XEP-0308
// message's origin-id): a correction already applied (live, then again from
// the archive) changes nothing, even when later ones followed it.
func (s *Store) ApplyCorrection(id MessageID, correctionID, body string, at time.Time) (bool, error) {
	return s.editMessage(id, func(_ *bbolt.Tx, m *Message) (bool, error) {
		return correct(m, correctionID, body, at)
	})
}

func correct(m *Message, correctionID, body string, at time.Time) (bool, error) {
	if body == "" {
		return false, fmt.Errorf("%w: empty correction", ErrInvalid)
	}
	if m.Extra[ExtraRetracted] != "" || body == m.Body {
		return false, nil
	}
	h := History(*m)
	if correctionID != "" {
		if m.Extra[ExtraCorrectionID] == correctionID {
			return false, nil
		}
		for _, v := range h {
			if v.ID == correctionID {
				return false, nil
			}
		}
	}
	h = append(h, BodyVersion{Body: m.Body, At: at.UTC(), ID: m.Extra[ExtraCorrectionID]})
	raw, err := json.Marshal(h)
	if err != nil {
		return false, err
	}
	m.Extra[ExtraHistory] = string(raw)
	m.Body = body
	m.Extra[ExtraCorrected] = at.UTC().Format(time.RFC3339)
	if correctionID != "" {
		m.Extra[ExtraCorrectionID] = correctionID
	} else {
		delete(m.Extra, ExtraCorrectionID)
	}
	return true, nil
}

// ExtraCorrectionID is the id of the correction that produced the current
// body (history entries carry the ids of the ones before).
const ExtraCorrectionID = "correction-id"

// QueueRetraction recalls one of our own messages and puts the retraction on
// the Outbox in the same transaction ("persist first"): after a crash or a
// restart the sync engine still sends it. editID is the retraction stanza's
// origin-id. Recalling an already recalled message only re-queues the
// retraction if one is still pending.
func (s *Store) QueueRetraction(id MessageID, editID string, at time.Time) error {
	var files []string
	err := s.queueEdit(id, "retract", editID, func(tx *bbolt.Tx, m *Message) (bool, error) {
		files = nil
		if m.Extra[ExtraRetracted] != "" {
			k, _ := PendingEdit(*m)
			return k == "retract", nil
		}
		return s.retract(tx, m, at, &files)
	})
	if err == nil {
		s.unlinkVaultFiles(files)
	}
	return err
}

// QueueCorrection corrects one of our own messages and puts the correction
// on the Outbox in the same transaction. A pending correction not yet sent is
// superseded (receivers get the newest text either way).
func (s *Store) QueueCorrection(id MessageID, editID, body string, at time.Time) error {
	return s.queueEdit(id, "correct", editID, func(_ *bbolt.Tx, m *Message) (bool, error) {
		if m.Extra[ExtraRetracted] != "" {
			return false, fmt.Errorf("%w: message was recalled", ErrInvalid)
		}
		return correct(m, editID, body, at)
	})
}

func (s *Store) queueEdit(id MessageID, kind, editID string, edit func(*bbolt.Tx, *Message) (bool, error)) error {
	if editID == "" || strings.Contains(editID, ":") {
		return fmt.Errorf("%w: bad edit id", ErrInvalid)
	}
	_, err := s.editMessage(id, func(tx *bbolt.Tx, m *Message) (bool, error) {
		if m.Direction != Outgoing {
			return false, fmt.Errorf("%w: only our own messages can be recalled or corrected", ErrInvalid)
		}
		changed, err := edit(tx, m)
		if err != nil || !changed {
			return false, err
		}
		m.Extra[ExtraEditPending] = kind + ":" + editID
		return true, addToOutbox(tx, m.ID)
	})
	return err
}

// addToOutbox lists id on the Outbox unless it already is.
func addToOutbox(tx *bbolt.Tx, id MessageID) error {
	out := tx.Bucket(bucketOutbox)
	c := out.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) == 8 && MessageID(beUint64(v)) == id {
			return nil
		}
	}
	seq, err := out.NextSequence()
	if err != nil {
		return err
	}
	return out.Put(be64(seq), be64(uint64(id)))
}

// EditSent records that the server acknowledged the edit editID of message
// id: the pending mark is cleared and the message leaves the Outbox, and the
// message itself counts as sent. An acknowledgement of an older, superseded
// edit changes nothing. It reports whether the receipt moved to sent.
func (s *Store) EditSent(id MessageID, editID string, at time.Time) (bool, error) {
	advanced := false
	_, err := s.editMessage(id, func(tx *bbolt.Tx, m *Message) (bool, error) {
		advanced = false
		if _, pending := PendingEdit(*m); pending != editID {
			return false, nil
		}
		delete(m.Extra, ExtraEditPending)
		if err := removeFromOutbox(tx, map[MessageID]bool{m.ID: true}); err != nil {
			return false, err
		}
		advanced = m.Receipt.advance(ReceiptSent, at.UTC(), "")
		return true, nil
	})
	return advanced, err
}

// MarkSentKeepingEdits is MarkSent for a message that may have gained a
// pending recall or correction after it was put on the wire: the message
// counts as sent, but leaves the Outbox only if no edit is pending (the
// edit's own acknowledgement, EditSent, takes it off). One transaction, like
// MarkSent; none is committed when the message is already sent and off the
// Outbox (checked inside the transaction, so no other writer can interleave).
func (s *Store) MarkSentKeepingEdits(id MessageID, at time.Time) (bool, error) {
	advanced := false
	_, err := s.editMessage(id, func(tx *bbolt.Tx, m *Message) (bool, error) {
		advanced = false
		dequeued := false
		if kind, _ := PendingEdit(*m); kind == "" {
			for _, k := range outboxEntries(tx)[m.ID] {
				if err := tx.Bucket(bucketOutbox).Delete(k); err != nil {
					return false, err
				}
				dequeued = true
			}
		}
		advanced = m.Receipt.advance(ReceiptSent, at.UTC(), "")
		if !advanced && !dequeued {
			return false, errUnchanged
		}
		return advanced, nil
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	return advanced, err
}

// Received edits. A recall or correction that arrives (live, carbon or from an
// archive) is first recorded here, sealed under the period key of its time
// like a message, in the same transaction as whatever else arrived with it
// (an archive page and its cursor); only then is it applied to its target,
// and the record is deleted in the transaction that applies it. A crash or an
// error between the two leaves the record, which is applied at the next try
// (Session start, or when the target arrives): an archive cursor can no
// longer move past a recall that was never applied. A recall of a message not
// stored yet waits here for it. Records whose period expires are shredded by
// Purge with everything else of that period.

// Edit kinds of a ReceivedEdit.
const (
	EditRetract = "retract"
	EditCorrect = "correct"
)

// bucketEdits: HMAC(conversation) | sequence -> pending edit (v2, period
// key). Created on first use.
var bucketEdits = []byte("edt")

const tagEdit = 'e'

// ReceivedEdit is a received recall or correction not yet applied.
type ReceivedEdit struct {
	// Seq is its place in the store, set when it is recorded.
	Seq uint64
	// Kind is EditRetract or EditCorrect.
	Kind string
	// Ref is the id the edit quotes for its target, as received.
	Ref string
	// Edit is the edit message in store form: ConversationID, From,
	// Direction and Extra say who sent it (for the author check), OriginID
	// is the edit's own id, Body a correction's new text, Timestamp when it
	// was made.
	Edit Message
}

func (e *ReceivedEdit) valid() error {
	switch {
	case e.Edit.ConversationID == "":
		return fmt.Errorf("%w: edit without conversation", ErrInvalid)
	case e.Ref == "":
		return fmt.Errorf("%w: edit without a reference", ErrInvalid)
	case e.Kind == EditCorrect && e.Edit.Body == "":
		return fmt.Errorf("%w: empty correction", ErrInvalid)
	case e.Kind != EditRetract && e.Kind != EditCorrect:
		return fmt.Errorf("%w: edit kind %q", ErrInvalid, e.Kind)
	}
	return nil
}

func encodeReceivedEdit(e *ReceivedEdit) []byte {
	w := writer{}
	w.u8(payloadV1)
	w.str(e.Kind)
	w.str(e.Ref)
	w.bytes(encodeMessage(nil, &e.Edit))
	return w.b
}

func decodeReceivedEdit(b []byte, seq uint64) (ReceivedEdit, error) {
	r := reader{b: b}
	if v := r.u8(); v != payloadV1 {
		return ReceivedEdit{}, payloadErr("pending edit", &r, v)
	}
	e := ReceivedEdit{Seq: seq, Kind: r.str(), Ref: r.str()}
	mb := r.raw()
	if r.err != nil {
		return ReceivedEdit{}, corruptf("pending edit: %v", r.err)
	}
	m, err := decodeMessage(mb, 0)
	if err != nil {
		return ReceivedEdit{}, err
	}
	e.Edit = m
	if err := e.valid(); err != nil {
		return ReceivedEdit{}, corruptf("pending edit: %v", err)
	}
	return e, nil
}

func (s *Store) editKey(conv string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(s.mac(tagEdit, conv), seq)
}

// putReceivedEdits records edits inside tx, sealing each under the period
// of its time (new period keys go to pending). It returns them with Seq set.
func (s *Store) putReceivedEdits(tx *bbolt.Tx, edits []ReceivedEdit, pending map[uint64]*periodKey) ([]ReceivedEdit, error) {
	if len(edits) == 0 {
		return nil, nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketEdits)
	if err != nil {
		return nil, err
	}
	out := make([]ReceivedEdit, 0, len(edits))
	for _, e := range edits {
		if err := e.valid(); err != nil {
			return nil, err
		}
		if e.Edit.ReceivedAt.IsZero() {
			e.Edit.ReceivedAt = s.opts.Now().UTC()
		}
		// Recorded once (applied.go): a replay of an edit already
		// recorded (live, then from an archive) is not recorded again.
		if seen, err := s.applyOnce(tx, e.Edit.StanzaIDBy, e.Edit.StanzaID, orderTime(&e.Edit)); err != nil {
			return nil, err
		} else if seen {
			continue
		}
		seq, err := b.NextSequence()
		if err != nil {
			return nil, err
		}
		e.Seq = seq
		p := s.periodOf(orderTime(&e.Edit))
		aead, err := s.periodAEAD(tx, p, pending)
		if err != nil {
			return nil, err
		}
		key := s.editKey(e.Edit.ConversationID, seq)
		if err := b.Put(key, sealV2(nil, aead, p, bucketEdits, key, encodeReceivedEdit(&e))); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	seen := map[string]bool{}
	for _, e := range out {
		if conv := e.Edit.ConversationID; !seen[conv] {
			seen[conv] = true
			if err := s.trimReceivedEdits(tx, b, conv, pending); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// MaxPendingEdits bounds the edits waiting for their target in one
// conversation. Every message that arrives in a conversation reads all of
// its waiting edits (the target may have come), so without a bound a room
// member or correspondent who sends recalls of ids that never arrive makes
// every later message there cost more (20,000 waiting: 385 ms just to read
// them, per message, on every member's device). A genuine edit waits for a
// reordered target for moments; the oldest beyond the bound are dropped
// (logged with counts only).
const MaxPendingEdits = 256

// trimReceivedEdits deletes the oldest pending edits of conv beyond
// MaxPendingEdits (keys sort by sequence within a conversation), and with
// each its once-only record (applied.go): it was never applied, so when an
// archive brings it again (with the target it waited for) it is recorded
// again rather than skipped as applied (TestTrimmedEditNotRecordedApplied).
func (s *Store) trimReceivedEdits(tx *bbolt.Tx, b *bbolt.Bucket, conv string, pending map[uint64]*periodKey) error {
	prefix := s.mac(tagEdit, conv)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	if len(keys) <= MaxPendingEdits {
		return nil
	}
	drop := keys[:len(keys)-MaxPendingEdits]
	for _, k := range drop {
		if e, err := s.openReceivedEdit(tx, k, b.Get(k), pending); err == nil {
			if err := s.unapply(tx, e.Edit.StanzaIDBy, e.Edit.StanzaID); err != nil {
				return err
			}
		}
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	s.log.Warn("securestore: oldest pending edits dropped (their targets never arrived)", "dropped", len(drop), "kept", MaxPendingEdits)
	return nil
}

// AppendMessagesWithEdits is AppendMessagesWithCursor that also records the
// page's recalls and corrections (ReceivedEdit) in the same transaction, so
// the cursor never covers an edit that is not durable. It returns the
// messages added and the edits as recorded (Seq set), which the caller then
// applies (ApplyReceivedEdit).
func (s *Store) AppendMessagesWithEdits(batch []Message, edits []ReceivedEdit, archive, cursor string) ([]Message, []ReceivedEdit, error) {
	return s.AppendMessagesAudited(batch, edits, archive, cursor, nil)
}

// AppendMessagesAudited is AppendMessagesWithEdits that also appends, in the
// same transaction, the audit entry audit returns for the messages added
// (IDs set; kind "" for none; not called when nothing was added): messages
// whose storing must be audited are never stored without their entry,
// whatever crash comes between. detail must not contain PHI.
func (s *Store) AppendMessagesAudited(batch []Message, edits []ReceivedEdit, archive, cursor string, audit func(added []Message) (kind, detail string)) ([]Message, []ReceivedEdit, error) {
	// Sized for the batch: growing it a message at a time copied each
	// catch-up page's messages about ten times over.
	added := make([]Message, 0, len(batch))
	var recorded []ReceivedEdit
	var a *appendTx
	if audit != nil {
		defer s.scrubAuditHistory()
	}
	err := s.updateThen(func(tx *bbolt.Tx) error {
		added = added[:0]
		a = s.beginAppend(tx)
		for _, m := range batch {
			m, dup, err := a.add(m)
			if err != nil {
				return err
			}
			if dup == 0 {
				added = append(added, m)
			}
		}
		if audit != nil && len(added) > 0 {
			if kind, detail := audit(added); kind != "" {
				if err := s.appendAudit(tx, kind, detail); err != nil {
					return err
				}
			}
		}
		if err := a.finish(); err != nil {
			return err
		}
		var err error
		if recorded, err = s.putReceivedEdits(tx, edits, a.pending); err != nil {
			return err
		}
		if archive != "" {
			return s.putV1(tx, bucketCursor, s.mac(tagCursor, archive), []byte(cursor))
		}
		return nil
	}, func() { a.committed() })
	if err != nil {
		return nil, nil, err
	}
	return added, recorded, nil
}

// RecordEdits records received recalls and corrections (one transaction)
// before they are applied; it returns them with Seq set.
func (s *Store) RecordEdits(edits []ReceivedEdit) ([]ReceivedEdit, error) {
	_, recorded, err := s.AppendMessagesWithEdits(nil, edits, "", "")
	return recorded, err
}

// ReceivedEdits lists the edits not yet applied in conversation conv (all
// conversations when conv is ""), in the order they were recorded within a
// conversation. A record that does not open (damaged) is skipped and
// logged, so it cannot hold up the others.
func (s *Store) ReceivedEdits(conv string) ([]ReceivedEdit, error) {
	var out []ReceivedEdit
	err := s.view(func(tx *bbolt.Tx) error {
		out = nil
		b := tx.Bucket(bucketEdits)
		if b == nil {
			return nil
		}
		var prefix []byte
		if conv != "" {
			prefix = s.mac(tagEdit, conv)
		}
		c := b.Cursor()
		k, v := c.First()
		if prefix != nil {
			k, v = c.Seek(prefix)
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			e, err := s.openReceivedEdit(tx, k, v, nil)
			if err != nil {
				s.log.Warn("securestore: unreadable pending edit skipped", "err", err)
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

func (s *Store) openReceivedEdit(tx *bbolt.Tx, k, v []byte, pending map[uint64]*periodKey) (ReceivedEdit, error) {
	if len(k) != macSize+8 {
		return ReceivedEdit{}, corruptf("pending edit key")
	}
	env, err := decodeEnvelope(v)
	if err != nil {
		return ReceivedEdit{}, err
	}
	if env.version != recordV2 {
		return ReceivedEdit{}, corruptf("pending edit has wrong envelope")
	}
	aead, err := s.periodAEAD(tx, env.period, pending)
	if err != nil {
		return ReceivedEdit{}, err
	}
	pt, err := openEnvelope(aead, env, bucketEdits, k)
	if err != nil {
		return ReceivedEdit{}, err
	}
	return decodeReceivedEdit(pt, binary.BigEndian.Uint64(k[macSize:]))
}

// ApplyReceivedEdit applies the recorded edit e to message target and deletes
// the record, in one transaction: a recall (Retract) or a correction
// (ApplyCorrection, idempotent by the edit's id). Applying an edit already
// applied changes nothing (false); an edit no longer recorded (applied or
// dropped meanwhile) changes nothing either. Which message is the target, and
// whether the edit's sender may edit it, is the caller's decision.
func (s *Store) ApplyReceivedEdit(e ReceivedEdit, target MessageID) (bool, error) {
	var files []string
	changed, err := s.editMessage(target, func(tx *bbolt.Tx, m *Message) (bool, error) {
		files = nil
		b := tx.Bucket(bucketEdits)
		if b == nil {
			return false, nil
		}
		key := s.editKey(e.Edit.ConversationID, e.Seq)
		if b.Get(key) == nil {
			return false, nil
		}
		if err := b.Delete(key); err != nil {
			return false, err
		}
		if m.ConversationID != e.Edit.ConversationID {
			return false, fmt.Errorf("%w: edit and target are in different conversations", ErrInvalid)
		}
		if e.Kind == EditRetract {
			return s.retract(tx, m, e.Edit.Timestamp, &files)
		}
		return correct(m, e.Edit.OriginID, e.Edit.Body, e.Edit.Timestamp)
	})
	if err == nil {
		s.unlinkVaultFiles(files)
	}
	return changed, err
}

// DropReceivedEdit deletes the record of an edit that will never apply (its
// sender may not edit its target).
func (s *Store) DropReceivedEdit(e ReceivedEdit) error {
	return s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEdits)
		if b == nil {
			return nil
		}
		return b.Delete(s.editKey(e.Edit.ConversationID, e.Seq))
	})
}

// purgeReceivedEdits deletes, inside Purge's transaction, the pending edits
// sealed under purged periods.
func purgeReceivedEdits(tx *bbolt.Tx, purged map[uint64]bool) error {
	b := tx.Bucket(bucketEdits)
	if b == nil {
		return nil
	}
	var del [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		env, err := decodeEnvelope(v)
		if err != nil {
			return err
		}
		if purged[env.period] {
			del = append(del, clone(k))
		}
	}
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
