package securestore

import (
	"cmp"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// Full-text search over every conversation. There is no index on disk: the
// index is built in memory from the sealed records on the first search after
// unlock, kept in step by every append and rewrite, and dropped at Close, so
// the file holds nothing it did not hold before and a locked store holds no
// words in memory (docs/STORE.md, "Search"). The index only proposes
// candidates: each hit is opened from the store and checked again before it
// is returned, so a message purged, recalled or corrected since it was
// indexed is never shown for words it no longer has.

// SearchQuery says what to look for. Every field narrows: an empty Text with
// a filter lists the newest messages that pass the filter.
type SearchQuery struct {
	// Text: words, each matched as the start of a word of the body
	// ("hypo" finds "hypoglycaemia"), case-insensitive, all required.
	Text string
	// Conversation: one conversation id (peer or room bare JID); "" = all.
	Conversation string
	// Sender: the author as the engine names it (Extra[ExtraSender], else
	// the bare From); "" = anyone.
	Sender string
	// MinUrgency: only messages at least this urgent.
	MinUrgency Urgency
	// Since, Until: order time within [Since, Until); zero = open.
	Since, Until time.Time
	// Patient: only messages tagged with a patient that matches
	// (ExtraPatientMRN, -Name, -Bed); zero = any message.
	Patient PatientMatch
	// Limit: at most this many hits, newest first; <= 0 means 50.
	Limit int
}

// PatientMatch narrows a search to messages about a patient. MRN and Bed
// match a tag's field whole (any case, spaces around ignored), Name
// matches when each of its words starts a word of the tag's name. Every
// field set must match, or with Any, at least one of them.
type PatientMatch struct {
	MRN, Name, Bed string
	Any            bool
}

func (p PatientMatch) set() bool { return p.MRN != "" || p.Name != "" || p.Bed != "" }

// matches says whether a message's tag (mrn, name, bed) passes p.
func (p PatientMatch) matches(mrn, name, bed string) bool {
	if mrn == "" {
		return false
	}
	var ok []bool
	if p.MRN != "" {
		ok = append(ok, patientKey(p.MRN) == patientKey(mrn))
	}
	if p.Bed != "" {
		ok = append(ok, patientKey(p.Bed) == patientKey(bed))
	}
	if p.Name != "" {
		ok = append(ok, bodyMatches(name, words(p.Name)) && len(words(p.Name)) > 0)
	}
	for _, v := range ok {
		if v == p.Any {
			return v
		}
	}
	return !p.Any
}

// patientKey is an MRN or bed as compared: lower case, inner spaces
// collapsed, spaces around dropped.
func patientKey(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// SearchResult is what Search found: the newest Limit hits, opened from the
// store, and how many indexed messages matched before that check and limit.
type SearchResult struct {
	Hits       []Message
	Candidates int
}

// searchDoc is one indexed message: only what the filters need and a hash of
// the body, so a rewrite that leaves the text alone (a receipt) costs a map
// lookup.
type searchDoc struct {
	id     MessageID
	at     int64
	conv   uint32
	sender uint32
	urg    Urgency
	hash   uint64
	// patient is the message's tag (0: none), an index into patients.
	patient uint32
}

// searchIndex is the in-memory inverted index. Posting lists grow only:
// a changed body adds its new words and keeps the old postings, which the
// check against the store filters out.
type searchIndex struct {
	// active is set from the first search to Close; appends skip the index
	// entirely until then.
	active atomic.Bool

	mu       sync.Mutex
	ready    bool
	building bool
	pending  []indexEntry // upserts that arrived while building
	docs     []searchDoc
	byID     map[MessageID]int32
	terms    map[string][]int32
	vocab    []string // the keys of terms, for prefix scans
	names    map[string]uint32
	// patients are the distinct patient tags, patients[0] none.
	patients   []patientTag
	patientIDs map[patientTag]uint32
}

// patientTag is a message's patient tag as the index keeps it.
type patientTag struct{ mrn, name, bed string }

// indexEntry is what the index takes from a message.
type indexEntry struct {
	id     MessageID
	at     time.Time
	conv   string
	sender string
	urg    Urgency
	body   string
	pt     patientTag
}

func entryOf(m *Message) indexEntry {
	return indexEntry{id: m.ID, at: orderTime(m), conv: m.ConversationID, sender: searchSender(m), urg: m.Urgency, body: m.Body,
		pt: patientOf(m)}
}

func patientOf(m *Message) patientTag {
	if m.Extra[ExtraPatientMRN] == "" {
		return patientTag{}
	}
	return patientTag{m.Extra[ExtraPatientMRN], m.Extra[ExtraPatientName], m.Extra[ExtraPatientBed]}
}

// searchSender is the author a sender filter matches.
func searchSender(m *Message) string {
	if s := m.Extra[ExtraSender]; s != "" {
		return s
	}
	from, _, _ := strings.Cut(m.From, "/")
	return strings.ToLower(from)
}

func newSearchIndex() *searchIndex {
	return &searchIndex{byID: map[MessageID]int32{}, terms: map[string][]int32{}, names: map[string]uint32{"": 0},
		patients: []patientTag{{}}, patientIDs: map[patientTag]uint32{{}: 0}}
}

func (x *searchIndex) name(s string) uint32 {
	if n, ok := x.names[s]; ok {
		return n
	}
	n := uint32(len(x.names))
	x.names[strings.Clone(s)] = n // kept for the session: not the caller's memory
	return n
}

func (x *searchIndex) patient(p patientTag) uint32 {
	if n, ok := x.patientIDs[p]; ok {
		return n
	}
	n := uint32(len(x.patients))
	p = patientTag{strings.Clone(p.mrn), strings.Clone(p.name), strings.Clone(p.bed)}
	x.patients = append(x.patients, p)
	x.patientIDs[p] = n
	return n
}

// upsert adds or updates one message; the caller holds mu (or owns x).
func (x *searchIndex) upsert(e indexEntry) {
	h := fnv.New64a()
	h.Write([]byte(e.body))
	sum := h.Sum64()
	i, ok := x.byID[e.id]
	if ok {
		d := &x.docs[i]
		d.patient = x.patient(e.pt)
		if d.hash == sum {
			return
		}
		d.hash = sum
	} else {
		i = int32(len(x.docs))
		x.docs = append(x.docs, searchDoc{id: e.id, at: e.at.UnixNano(), conv: x.name(e.conv),
			sender: x.name(e.sender), urg: e.urg, hash: sum, patient: x.patient(e.pt)})
		x.byID[e.id] = i
	}
	eachWord(e.body, func(w string) {
		p, seen := x.terms[w]
		if len(p) > 0 && p[len(p)-1] == i {
			return
		}
		if !seen {
			w = strings.Clone(w)
			x.vocab = append(x.vocab, w)
		}
		x.terms[w] = append(p, i)
	})
}

// maxWordRunes bounds one indexed word: longer runs (a pasted hash, a URL
// without separators) are cut, and a query word is cut the same way.
const maxWordRunes = 40

// eachWord calls fn with each lower-cased word of s: runs of letters and
// digits. The string passed is only valid during the call.
func eachWord(s string, fn func(string)) {
	var buf [4 * maxWordRunes]byte
	w := buf[:0]
	n := 0
	flush := func() {
		if len(w) > 0 {
			fn(string(w))
		}
		w, n = buf[:0], 0
	}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if n < maxWordRunes {
				w = utf8.AppendRune(w, unicode.ToLower(r))
				n++
			}
			continue
		}
		flush()
	}
	flush()
}

func words(s string) []string {
	var out []string
	eachWord(s, func(w string) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	})
	return out
}

// bodyMatches is the check against the stored text: every query word starts
// some word of body.
func bodyMatches(body string, query []string) bool {
	if len(query) == 0 {
		return true
	}
	found := make([]bool, len(query))
	left := len(query)
	eachWord(body, func(w string) {
		for i, q := range query {
			if !found[i] && strings.HasPrefix(w, q) {
				found[i] = true
				left--
			}
		}
	})
	return left == 0
}

// noteIndexed feeds appended or rewritten messages to an active index.
func (s *Store) noteIndexed(entries []indexEntry) {
	x := s.search.Load()
	if x == nil || !x.active.Load() || len(entries) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.building {
		x.pending = append(x.pending, entries...)
		return
	}
	for _, e := range entries {
		x.upsert(e)
	}
}

// BuildSearchIndex builds the index now (Search does it on first use); the
// app calls it when the user opens search so the first query is quick.
func (s *Store) BuildSearchIndex() error {
	_, err := s.searchIndex()
	return err
}

// searchIndex returns the built index, building it from the store first.
func (s *Store) searchIndex() (*searchIndex, error) {
	x := s.search.Load()
	if x == nil {
		x = newSearchIndex()
		if !s.search.CompareAndSwap(nil, x) {
			x = s.search.Load()
		}
	}
	x.mu.Lock()
	if x.ready {
		x.mu.Unlock()
		return x, nil
	}
	if x.building {
		// Another caller builds; wait for it by polling the lock.
		x.mu.Unlock()
		for {
			time.Sleep(5 * time.Millisecond)
			x.mu.Lock()
			done, building := x.ready, x.building
			x.mu.Unlock()
			if done {
				return x, nil
			}
			if !building {
				return s.searchIndex()
			}
		}
	}
	x.building = true
	x.mu.Unlock()

	fresh := newSearchIndex()
	err := s.buildFrom(x, fresh)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.building = false
	if err != nil {
		x.pending = nil
		x.active.Store(false)
		return nil, err
	}
	x.docs, x.byID, x.terms, x.vocab, x.names = fresh.docs, fresh.byID, fresh.terms, fresh.vocab, fresh.names
	x.patients, x.patientIDs = fresh.patients, fresh.patientIDs
	for _, e := range x.pending {
		x.upsert(e)
	}
	x.pending = nil
	x.ready = true
	return x, nil
}

// buildFrom fills fresh from a snapshot of the store. The index turns
// active, and the snapshot starts, under wmu: every write committed before
// is in the snapshot, every later one reaches noteIndexed and waits in
// pending.
func (s *Store) buildFrom(x, fresh *searchIndex) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return s.lockedErr()
	}
	if err := s.brokenErr(); err != nil {
		return err
	}
	s.wmu.Lock()
	x.active.Store(true)
	tx, err := s.db.Begin(false)
	s.wmu.Unlock()
	if err != nil {
		return s.checkFault(err)
	}
	defer tx.Rollback()
	return s.checkFault(guard(func() error {
		return tx.Bucket(bucketMsg).ForEach(func(k, v []byte) error {
			m, err := s.openMessage(tx, k, v, nil)
			if err != nil {
				// A record that does not open is reported by the readers
				// that show it; search just does not find it.
				return nil
			}
			fresh.upsert(entryOf(&m))
			return nil
		})
	}))
}

// dropSearch forgets the index (Close, Wipe).
func (s *Store) dropSearch() { s.search.Store(nil) }

// candidates returns the indexes of docs that pass the query, newest first.
func (x *searchIndex) candidates(q SearchQuery, qw []string) []int32 {
	x.mu.Lock()
	defer x.mu.Unlock()
	var set []uint64 // nil: every doc
	for _, w := range qw {
		b := make([]uint64, (len(x.docs)+63)/64)
		if p, ok := x.terms[w]; ok {
			for _, i := range p {
				b[i>>6] |= 1 << (i & 63)
			}
		}
		for _, v := range x.vocab {
			if len(v) > len(w) && strings.HasPrefix(v, w) {
				for _, i := range x.terms[v] {
					b[i>>6] |= 1 << (i & 63)
				}
			}
		}
		if set == nil {
			set = b
		} else {
			for j := range set {
				set[j] &= b[j]
			}
		}
	}
	conv, sender := uint32(0), uint32(0)
	if q.Conversation != "" {
		n, ok := x.names[q.Conversation]
		if !ok {
			return nil
		}
		conv = n
	}
	if q.Sender != "" {
		n, ok := x.names[q.Sender]
		if !ok {
			return nil
		}
		sender = n
	}
	var since, until int64 = 0, 1<<63 - 1
	if !q.Since.IsZero() {
		since = q.Since.UnixNano()
	}
	if !q.Until.IsZero() {
		until = q.Until.UnixNano()
	}
	var patients []bool // nil: any message; else which tags pass
	if q.Patient.set() {
		patients = make([]bool, len(x.patients))
		for i, p := range x.patients {
			patients[i] = q.Patient.matches(p.mrn, p.name, p.bed)
		}
	}
	var out []int32
	for i := range x.docs {
		if set != nil && set[i>>6]&(1<<(i&63)) == 0 {
			continue
		}
		d := &x.docs[i]
		if conv != 0 && d.conv != conv || sender != 0 && d.sender != sender || d.urg < q.MinUrgency ||
			d.at < since || d.at >= until || patients != nil && !patients[d.patient] {
			continue
		}
		out = append(out, int32(i))
	}
	slices.SortFunc(out, func(a, b int32) int {
		da, db := &x.docs[a], &x.docs[b]
		return cmp.Or(cmp.Compare(db.at, da.at), cmp.Compare(db.id, da.id))
	})
	return out
}

// Search finds messages across every conversation, newest first. The first
// call after unlock builds the index (docs/BENCHMARKS.md has the cost).
func (s *Store) Search(q SearchQuery) (SearchResult, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	x, err := s.searchIndex()
	if err != nil {
		return SearchResult{}, err
	}
	qw := words(q.Text)
	cand := x.candidates(q, qw)
	res := SearchResult{Candidates: len(cand)}
	ids := make([]MessageID, len(cand))
	x.mu.Lock()
	for i, c := range cand {
		ids[i] = x.docs[c].id
	}
	x.mu.Unlock()
	err = s.view(func(tx *bbolt.Tx) error {
		for _, id := range ids {
			if len(res.Hits) == q.Limit {
				return nil
			}
			m, err := s.loadMessage(tx, id)
			if err != nil {
				continue // purged since it was indexed, or unreadable
			}
			if m.Extra[ExtraRetracted] != "" || !bodyMatches(m.Body, qw) ||
				q.Conversation != "" && m.ConversationID != q.Conversation ||
				q.Sender != "" && searchSender(&m) != q.Sender ||
				q.Patient.set() && !q.Patient.matches(m.Extra[ExtraPatientMRN], m.Extra[ExtraPatientName], m.Extra[ExtraPatientBed]) {
				continue
			}
			res.Hits = append(res.Hits, m)
		}
		return nil
	})
	return res, err
}
