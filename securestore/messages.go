package securestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// Index-key tags keep the HMAC domains apart.
const (
	tagConv   = 'c'
	tagStanza = 's'
	tagOrigin = 'o'
	// tagSenderOrigin keys an origin-id within its sender's scope: ids are
	// chosen by senders, and two senders (or one restarted counter) reuse them.
	tagSenderOrigin = 'O'
	tagCursor       = 'm'
	tagContact      = 'r'
	tagSetting      = 'k'
	tagAttach       = 'a'
)

// orderTime is the time a message sorts and expires by: server time when
// known, else local arrival.
func orderTime(m *Message) time.Time {
	if !m.Timestamp.IsZero() {
		return m.Timestamp
	}
	return m.ReceivedAt
}

// orderKey is the conversation index key: HMAC(conv) | time (ns, big-endian)
// | local id. The time is in clear so the index sorts; see docs/STORE.md.
func orderKey(convMAC []byte, t time.Time, id MessageID) []byte {
	return appendOrderKey(make([]byte, 0, macSize+16), convMAC, t, id)
}

func appendOrderKey(k, convMAC []byte, t time.Time, id MessageID) []byte {
	k = append(k, convMAC...)
	ns := t.UnixNano()
	if ns < 0 || t.IsZero() {
		ns = 0
	}
	k = binary.BigEndian.AppendUint64(k, uint64(ns))
	return binary.BigEndian.AppendUint64(k, uint64(id))
}

// appendTx holds what one write transaction touches, so a batch updates each
// conversation once and publishes new period keys and dedupe entries only
// after commit.
type appendTx struct {
	s       *Store
	tx      *bbolt.Tx
	msgs    *bbolt.Bucket
	cix     *bbolt.Bucket
	dix     *bbolt.Bucket
	convs   map[string]*convState
	pending map[uint64]*periodKey
	newKeys map[dedupeKey]MessageID // dedupe entries written by this tx
	indexed []indexEntry            // for an active search index, after commit
	scratch []byte

	// Per-message work reuses these instead of allocating: the keyed hash
	// of the dedupe keys (one HMAC per id kind present), its input and
	// output, and a slab that record keys and values are cut from. bbolt
	// keeps a Put's key and value until commit, so the slab is never
	// reused within the transaction; it is dropped with it.
	keyHash hash.Hash
	macIn   []byte
	macOut  []byte
	adBuf   []byte
	slab    []byte
}

type convState struct {
	mac   []byte
	c     Conversation
	dirty bool
}

// bytes returns n bytes of the transaction's slab (length 0, capacity n).
func (a *appendTx) bytes(n int) []byte {
	if cap(a.slab)-len(a.slab) < n {
		a.slab = make([]byte, 0, max(n, 32<<10))
	}
	b := a.slab[len(a.slab) : len(a.slab) : len(a.slab)+n]
	a.slab = a.slab[:len(a.slab)+n]
	return b
}

// dedupeMAC is Store.mac for the dedupe keys of one append, without
// allocating.
func (a *appendTx) dedupeMAC(tag byte, parts ...string) dedupeKey {
	if a.keyHash == nil {
		a.keyHash, _ = a.s.hmacs.Get().(hash.Hash)
		if a.keyHash == nil {
			a.keyHash = newHMAC(a.s.indexKey)
		}
	}
	h := a.keyHash
	h.Reset()
	b := append(a.macIn[:0], tag)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	h.Write(b)
	a.macIn = b
	a.macOut = h.Sum(a.macOut[:0])
	return toDedupeKey(a.macOut)
}

func (s *Store) beginAppend(tx *bbolt.Tx) *appendTx {
	a := &appendTx{s: s, tx: tx,
		msgs: tx.Bucket(bucketMsg), cix: tx.Bucket(bucketConvIdx), dix: tx.Bucket(bucketDedupe),
		convs: map[string]*convState{}, pending: map[uint64]*periodKey{}, newKeys: map[dedupeKey]MessageID{}}
	// msg and dix only ever grow at the right edge (sequential local ids):
	// full pages on split instead of half-full ones.
	a.msgs.FillPercent = 1.0
	a.dix.FillPercent = 1.0
	return a
}

// committed publishes what the transaction made, once it has committed.
// Callers hold wmu (or s.mu exclusively), so the next writer sees it.
func (a *appendTx) committed() {
	if a.keyHash != nil {
		a.s.hmacs.Put(a.keyHash)
		a.keyHash = nil
	}
	a.s.publishKeys(a.pending)
	a.s.dedupe.publish(a.newKeys)
	a.s.convs.publish(a.convs)
	a.s.noteIndexed(a.indexed)
}

// convCache holds the committed state of conversations that write
// transactions have touched, so a batch does not re-derive the HMAC and
// re-open the sealed record of every conversation it touches. Only writers
// use it (readers read the file); it is filled only after commit by the
// single writer (wmu), and emptied on Close.
type convCache struct {
	mu sync.Mutex
	m  map[string]convState
}

func (c *convCache) get(id string) (convState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.m[id]
	return cs, ok
}

func (c *convCache) publish(convs map[string]*convState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]convState{}
	}
	for id, cs := range convs {
		c.m[id] = convState{mac: cs.mac, c: cs.c}
	}
}

func (c *convCache) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

func (a *appendTx) conversation(id string) (*convState, error) {
	if cs := a.convs[id]; cs != nil {
		return cs, nil
	}
	// What this keeps (the key, Conversation.ID) goes into the cache for
	// the session: the store's own copy, never the caller's string, which
	// may be a part of a whole received frame (sync decodes in place).
	if cached, ok := a.s.convs.get(id); ok {
		cs := &cached // a copy: the cache changes only after commit
		if cs.c.ID == id {
			id = cs.c.ID
		} else {
			id = strings.Clone(id)
		}
		a.convs[id] = cs
		return cs, nil
	}
	id = strings.Clone(id) // once per conversation and session
	mac := a.s.mac(tagConv, id)
	cs := &convState{mac: mac}
	raw, err := a.s.getV1(a.tx, bucketConv, mac)
	switch {
	case err == ErrNotFound:
		cs.c = Conversation{ID: id}
		cs.dirty = true
	case err != nil:
		return nil, err
	default:
		if cs.c, err = decodeConversation(raw); err != nil {
			return nil, err
		}
	}
	a.convs[id] = cs
	return cs, nil
}

// owner returns the message of conv that owns dedupe key key, looking at this
// transaction's own entries and then the committed map. A hit is confirmed
// against the sealed record's conversation (the key is an HMAC over it), so
// an edited dix entry cannot suppress a message of another conversation.
// The id itself is not compared: after SetStanzaID a record carries only its
// newest stanza-id while earlier ones stay indexed.
func (a *appendTx) owner(dk dedupeKey, conv string) (MessageID, error) {
	if got, ok := a.newKeys[dk]; ok {
		return got, nil
	}
	got, ok := a.s.dedupe.lookupKey(dk)
	if !ok {
		return 0, nil
	}
	m, err := a.s.openMessageByID(a.tx, got, a.pending)
	if err == ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if m.ConversationID != conv {
		return 0, nil // the dix entry lies (edited file): not a duplicate
	}
	return got, nil
}

// duplicate reports whether m is already in its conversation (including
// earlier in this batch), returning its id, or else the dedupe keys m will
// own. A stanza-id is assigned by the archive (the sync engine keeps only
// trusted ones), so it alone decides. An origin-id is chosen by the sender:
// it is looked up within the sender's scope (then, for records written
// before scoping, within the conversation), and it makes m a duplicate only
// if the stored message says the same thing (sameContent).
func (a *appendTx) duplicate(m *Message) (keys messageKeys, dup MessageID, err error) {
	if m.StanzaID != "" {
		sk := a.dedupeMAC(tagStanza, m.ConversationID, m.StanzaID)
		if dup, err = a.owner(sk, m.ConversationID); dup != 0 || err != nil {
			return keys, dup, err
		}
		keys.k[keys.n] = sk
		keys.n++
	}
	if m.OriginID != "" {
		scoped := a.dedupeMAC(tagSenderOrigin, m.ConversationID, m.Extra[ExtraSender], m.OriginID)
		if dup, err = a.originOwner(scoped, m); dup != 0 || err != nil {
			return keys, dup, err
		}
		anyKey := a.dedupeMAC(tagOrigin, m.ConversationID, m.OriginID)
		if dup, err = a.originOwner(anyKey, m); dup != 0 || err != nil {
			return keys, dup, err
		}
		keys.k[keys.n], keys.k[keys.n+1] = scoped, anyKey
		keys.n += 2
	}
	return keys, 0, nil
}

// messageKeys are the dedupe keys one message owns: its stanza-id's, and
// its origin-id's in the sender's scope and in any sender's.
type messageKeys struct {
	k [3]dedupeKey
	n int
}

func (k *messageKeys) list() []dedupeKey { return k.k[:k.n] }

// originOwner returns the message that owns origin key key if it is the
// same message as m: same conversation, origin-id and sender (a record
// written before senders were kept has none), and the same content.
func (a *appendTx) originOwner(key dedupeKey, m *Message) (MessageID, error) {
	got, ok := a.newKeys[key]
	if !ok {
		if got, ok = a.s.dedupe.lookupKey(key); !ok {
			return 0, nil
		}
	}
	old, err := a.s.openMessageByID(a.tx, got, a.pending)
	if err == ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if old.ConversationID != m.ConversationID || old.OriginID != m.OriginID {
		return 0, nil
	}
	if s := old.Extra[ExtraSender]; s != "" && s != m.Extra[ExtraSender] {
		return 0, nil
	}
	if !sameContent(&old, m) {
		return 0, nil
	}
	return got, nil
}

// sameContent: a stored message and a new copy with the same sender-chosen
// id are one message only if they say the same thing. Our own messages
// (outgoing) carry ids we chose at random, so the id is enough (and our
// archive's copy may differ in wire decoration). A recalled message is never
// brought back by a copy; a corrected one is compared by its first text.
func sameContent(old, m *Message) bool {
	if old.Direction != m.Direction {
		return false
	}
	if old.Direction == Outgoing || old.Extra[ExtraRetracted] != "" {
		return true
	}
	body := old.Body
	if h := History(*old); len(h) > 0 {
		body = h[0].Body
	}
	return body == m.Body
}

// add stores one message unless it is a duplicate. It returns the stored
// message (with ID) and whether it was added.
func (a *appendTx) add(m Message) (Message, MessageID, error) {
	if m.ConversationID == "" {
		return m, 0, fmt.Errorf("%w: message without conversation id", ErrInvalid)
	}
	if err := a.s.dedupe.ensure(a.tx); err != nil {
		return m, 0, err
	}
	cs, err := a.conversation(m.ConversationID)
	if err != nil {
		return m, 0, err
	}
	keys, dup, err := a.duplicate(&m)
	if dup != 0 || err != nil {
		return m, dup, err
	}
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = a.s.opts.Now().UTC()
	}
	seq, err := a.msgs.NextSequence()
	if err != nil {
		return m, 0, err
	}
	m.ID = MessageID(seq)
	t := orderTime(&m)
	p := a.s.periodOf(t)
	aead, err := a.s.periodAEAD(a.tx, p, a.pending)
	if err != nil {
		return m, 0, err
	}
	key := binary.BigEndian.AppendUint64(a.bytes(8), seq)
	a.scratch = encodeMessage(a.scratch[:0], &m)
	a.adBuf = recordAD(a.adBuf[:0], bucketMsg, key) // sized once per transaction
	val := sealV2AD(a.bytes(v2HeaderSize+len(a.scratch)+tagSize), a.adBuf, aead, p, bucketMsg, key, a.scratch)
	if err := a.msgs.Put(key, val); err != nil {
		return m, 0, err
	}
	var okeyBuf [macSize + 16]byte
	okey := appendOrderKey(okeyBuf[:0], cs.mac, t, m.ID)
	// One dix entry per message: the ordering tail (conv, time) and the
	// dedupe keys. cix gets it later, in mergeTail.
	dv := a.bytes(dixHeader + keys.n*macSize)
	dv = append(dv, cs.mac...)
	dv = binary.BigEndian.AppendUint64(dv, orderNS(&m))
	for _, k := range keys.list() {
		dv = append(dv, k[:]...)
	}
	if err := a.dix.Put(key, dv); err != nil {
		return m, 0, err
	}
	for _, k := range keys.list() {
		a.newKeys[k] = m.ID
	}
	if x := a.s.search.Load(); x != nil && x.active.Load() {
		a.indexed = append(a.indexed, entryOf(&m))
	}
	if t.After(cs.c.LastActivity) {
		cs.c.LastActivity = t
		cs.dirty = true
	}
	if m.Direction == Incoming && (cs.c.lastReadKey == nil || bytes.Compare(okey, cs.c.lastReadKey) > 0) {
		cs.c.Unread++
		cs.dirty = true
	}
	return m, 0, nil
}

// finish writes the touched conversations and merges the ordering tail into
// cix when it is due.
func (a *appendTx) finish() error {
	if err := a.mergeTail(); err != nil {
		return err
	}
	for _, cs := range a.convs {
		if cs.dirty {
			if err := a.s.putV1(a.tx, bucketConv, cs.mac, encodeConversation(&cs.c)); err != nil {
				return err
			}
		}
	}
	return nil
}

// AppendMessages stores a batch in one transaction. Messages whose stanza-id
// or origin-id is already in their conversation (in the store or earlier in
// the batch) are skipped, not errors: carbons, MAM and live delivery overlap.
// Conversation last activity and unread counts (incoming only) are updated.
// It returns the messages actually added, with their IDs.
func (s *Store) AppendMessages(batch []Message) ([]Message, error) {
	return s.AppendMessagesWithCursor(batch, "", "")
}

// AppendMessagesWithCursor is AppendMessages plus SetCursor(archive, cursor)
// in the same transaction, so a MAM cursor only advances once the page it
// covers is durably stored. An empty archive sets no cursor.
func (s *Store) AppendMessagesWithCursor(batch []Message, archive, cursor string) ([]Message, error) {
	added, _, err := s.AppendMessagesWithEdits(batch, nil, archive, cursor)
	return added, err
}

// loadMessage reads and opens message id inside tx.
func (s *Store) loadMessage(tx *bbolt.Tx, id MessageID) (Message, error) {
	return s.openMessageByID(tx, id, nil)
}

// openMessageByID is loadMessage inside a write transaction (pending period keys).
func (s *Store) openMessageByID(tx *bbolt.Tx, id MessageID, pending map[uint64]*periodKey) (Message, error) {
	key := be64(uint64(id))
	v := tx.Bucket(bucketMsg).Get(key)
	if v == nil {
		return Message{}, ErrNotFound
	}
	return s.openMessage(tx, key, v, pending)
}

func (s *Store) openMessage(tx *bbolt.Tx, key, v []byte, pending map[uint64]*periodKey) (Message, error) {
	env, err := decodeEnvelope(v)
	if err != nil {
		return Message{}, err
	}
	if env.version != recordV2 {
		return Message{}, corruptf("message record has wrong envelope")
	}
	aead, err := s.periodAEAD(tx, env.period, pending)
	if err != nil {
		return Message{}, err
	}
	pt, err := openEnvelope(aead, env, bucketMsg, key)
	if err != nil {
		return Message{}, err
	}
	return decodeMessage(pt, MessageID(binary.BigEndian.Uint64(key)))
}

// Message returns the message with local id id.
func (s *Store) Message(id MessageID) (Message, error) {
	var m Message
	err := s.view(func(tx *bbolt.Tx) (e error) { m, e = s.loadMessage(tx, id); return e })
	return m, err
}

// MessageByStanzaID finds a message of a conversation by its XEP-0359
// stanza-id (MAM references, receipts that cite the archive id). Stanza-ids
// recorded later with SetStanzaID are found too, including earlier ones.
func (s *Store) MessageByStanzaID(conv, stanzaID string) (Message, error) {
	return s.messageByIndex(conv, s.mac(tagStanza, conv, stanzaID))
}

// MessageByOriginID finds a message of a conversation by its origin-id,
// whoever sent it (the newest, if several senders used the id). Origin-ids
// are chosen by senders: to resolve a reference, use
// MessageBySenderOriginID with the sender the reference must name.
func (s *Store) MessageByOriginID(conv, originID string) (Message, error) {
	return s.messageByIndex(conv, s.mac(tagOrigin, conv, originID))
}

// MessageBySenderOriginID finds the message of a conversation that sender
// (its ExtraSender) sent with this origin-id. A message stored before
// senders were kept (no ExtraSender) matches any sender.
func (s *Store) MessageBySenderOriginID(conv, sender, originID string) (Message, error) {
	m, err := s.messageByIndex(conv, s.mac(tagSenderOrigin, conv, sender, originID))
	if err == nil || !errors.Is(err, ErrNotFound) {
		return m, err
	}
	m, err = s.messageByIndex(conv, s.mac(tagOrigin, conv, originID))
	if err != nil {
		return m, err
	}
	if m.OriginID != originID || (m.Extra[ExtraSender] != "" && m.Extra[ExtraSender] != sender) {
		return Message{}, ErrNotFound
	}
	return m, nil
}

func (s *Store) messageByIndex(conv string, key []byte) (Message, error) {
	var m Message
	err := s.view(func(tx *bbolt.Tx) error {
		if err := s.dedupe.ensure(tx); err != nil {
			return err
		}
		id, ok := s.dedupe.lookup(key)
		if !ok {
			return ErrNotFound
		}
		var err error
		m, err = s.loadMessage(tx, id)
		if err == ErrNotFound {
			// Published after a commit this read transaction predates.
			return ErrNotFound
		}
		if err == nil && m.ConversationID != conv {
			return corruptf("dedupe index points into another conversation")
		}
		return err
	})
	return m, err
}

// SetStanzaID records the archive-assigned XEP-0359 stanza-id (by = the
// archive's JID) on a stored message, typically our own outgoing message
// reflected by a MUC room or found in MAM, and indexes it so
// MessageByStanzaID finds it (room members' displayed markers quote it).
// It is a no-op if the message already has that stanza-id from that archive.
// If the message had another stanza-id, the new one replaces it in the
// record and both stay indexed. ErrDuplicate if another message of the
// conversation already owns the stanza-id; ErrNotFound if id is unknown.
func (s *Store) SetStanzaID(id MessageID, stanzaID, by string) error {
	if stanzaID == "" {
		return fmt.Errorf("%w: empty stanza-id", ErrInvalid)
	}
	var a *appendTx
	return s.updateThen(func(tx *bbolt.Tx) error {
		a = s.beginAppend(tx)
		if err := s.dedupe.ensure(tx); err != nil {
			return err
		}
		m, err := s.openMessageByID(tx, id, a.pending)
		if err != nil {
			return err
		}
		_, err = a.learnStanzaID(&m, stanzaID, by)
		return err
	}, func() { a.committed() })
}

// learnStanzaID is SetStanzaID inside a transaction: it records stanzaID
// (from archive by) on m, rewrites m and indexes the id, and reports whether
// it wrote anything. ErrDuplicate (nothing written) if another message of the
// conversation owns the stanza-id.
func (a *appendTx) learnStanzaID(m *Message, stanzaID, by string) (bool, error) {
	s, tx := a.s, a.tx
	if m.StanzaID == stanzaID && m.StanzaIDBy == by {
		return false, nil
	}
	sk := s.mac(tagStanza, m.ConversationID, stanzaID)
	owner, err := a.owner(toDedupeKey(sk), m.ConversationID)
	if err != nil {
		return false, err
	}
	if owner != 0 && owner != m.ID {
		return false, fmt.Errorf("%w: stanza-id already belongs to message %d", ErrDuplicate, owner)
	}
	m.StanzaID, m.StanzaIDBy = stanzaID, by
	if err := s.rewriteMessage(tx, m, a.pending); err != nil {
		return false, err
	}
	key := be64(uint64(m.ID))
	old := a.dix.Get(key)
	if err := checkDixEntry(key, old); err != nil {
		return false, err
	}
	for v := old[dixHeader:]; len(v) >= macSize; v = v[macSize:] {
		if bytes.Equal(v[:macSize], sk) {
			return true, nil // already indexed (an earlier SetStanzaID)
		}
	}
	dv := append(append(make([]byte, 0, len(old)+macSize), old...), sk...)
	if err := a.dix.Put(key, dv); err != nil {
		return false, err
	}
	a.newKeys[toDedupeKey(sk)] = m.ID
	return true, nil
}

// Latest returns the newest n messages of a conversation, oldest first (the
// order a conversation view draws them).
func (s *Store) Latest(conv string, n int) ([]Message, error) {
	return s.page(conv, 0, n)
}

// Before returns up to n messages of conv older than the message cursor,
// oldest first: the next page when the user scrolls up.
func (s *Store) Before(conv string, cursor MessageID, n int) ([]Message, error) {
	if cursor == 0 {
		return nil, fmt.Errorf("%w: zero cursor", ErrInvalid)
	}
	return s.page(conv, cursor, n)
}

func (s *Store) page(conv string, cursor MessageID, n int) ([]Message, error) {
	if n <= 0 {
		return nil, nil
	}
	mac := s.mac(tagConv, conv)
	var out []Message
	err := s.view(func(tx *bbolt.Tx) error {
		var bound []byte
		if cursor != 0 {
			m, err := s.loadMessage(tx, cursor)
			if err != nil {
				return err
			}
			if m.ConversationID != conv {
				return fmt.Errorf("%w: cursor is in another conversation", ErrInvalid)
			}
			bound = orderKey(mac, orderTime(&m), m.ID)
		}
		keys, err := s.orderKeysBefore(tx, mac, bound, n)
		if err != nil {
			return err
		}
		out = make([]Message, len(keys))
		for i, k := range keys {
			m, err := s.loadMessage(tx, MessageID(beUint64(k[macSize+8:])))
			if err != nil {
				return err
			}
			out[len(keys)-1-i] = m
		}
		return nil
	})
	return out, err
}

// AdvanceReceipt moves a message's receipt (member "" for the message as a
// whole, or a room member's bare JID) forward to state at time at. Receipts
// never move backwards; reason is kept for ReceiptFailed. It reports whether
// anything changed, so the sync engine can skip redundant UI events.
func (s *Store) AdvanceReceipt(id MessageID, member string, state ReceiptState, at time.Time, reason string) (bool, error) {
	return s.advanceReceipt(id, member, state, at, reason, false)
}

// MarkSent advances a message to sent and takes it off the outbox in one
// transaction: the server acknowledged it (XEP-0198). One commit instead of
// two matters on the send path, where every fsync is latency.
func (s *Store) MarkSent(id MessageID, at time.Time) (bool, error) {
	return s.advanceReceipt(id, "", ReceiptSent, at, "", true)
}

func (s *Store) advanceReceipt(id MessageID, member string, state ReceiptState, at time.Time, reason string, dequeue bool) (bool, error) {
	changed := false
	var pending map[uint64]*periodKey
	err := s.updateThen(func(tx *bbolt.Tx) error {
		changed = false
		if dequeue {
			if err := removeFromOutbox(tx, map[MessageID]bool{id: true}); err != nil {
				return err
			}
		}
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
		if member == "" {
			changed = m.Receipt.advance(state, at.UTC(), reason)
		} else {
			rc := m.Members[member]
			if changed = rc.advance(state, at.UTC(), reason); changed {
				if m.Members == nil {
					m.Members = map[string]Receipt{}
				}
				m.Members[member] = rc
			}
		}
		if !changed {
			return nil
		}
		return s.rewriteMessage(tx, &m, pending)
	}, func() { s.publishKeys(pending) })
	return changed, err
}

// rewriteMessage reseals an updated message in its period with a fresh nonce.
func (s *Store) rewriteMessage(tx *bbolt.Tx, m *Message, pending map[uint64]*periodKey) error {
	key := be64(uint64(m.ID))
	p := s.periodOf(orderTime(m))
	aead, err := s.periodAEAD(tx, p, pending)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketMsg).Put(key, sealV2(nil, aead, p, bucketMsg, key, encodeMessage(nil, m))); err != nil {
		return err
	}
	// Before commit: should the transaction roll back, Search's check
	// against the store drops what the index then wrongly proposes.
	s.noteIndexed([]indexEntry{entryOf(m)})
	return nil
}

// UpdateExtra merges fields into a message's Extra map (correction,
// retraction flags, attachment refs); an empty value deletes the field.
func (s *Store) UpdateExtra(id MessageID, fields map[string]string) error {
	_, err := s.editMessage(id, func(_ *bbolt.Tx, m *Message) (bool, error) {
		for k, val := range fields {
			if val == "" {
				delete(m.Extra, k)
			} else {
				m.Extra[k] = val
			}
		}
		return true, nil
	})
	return err
}
