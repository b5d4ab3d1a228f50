package securestore

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// Search benchmarks for docs/BENCHMARKS.md ("Search"). Run:
//
//	go test ./securestore/ -run '^$' -bench 'Search' -benchtime 20x -count 1
//
// The store holds 100k messages of ward chat: 12–30 words each, drawn
// (Zipf-like) from 250 clinical words and 5,000 made-up rare words (names,
// drugs, codes), plus numbers, over 200 conversations; 1 in 20 urgent.
var (
	searchStoreOnce sync.Once
	searchStorePath string
)

var clinicalWords = strings.Fields(`bed patient please review potassium sodium glucose
insulin pain score obs bp hr spo2 temp resp rate fluids iv cannula bloods sent result
chest xray ecg troponin doctor nurse reg consultant ward round handover night shift day
discharge admit transfer theatre post op pre op nil by mouth fasting meds chart allergy
penicillin paracetamol morphine oxycodone ondansetron heparin enoxaparin warfarin inr
catheter urine output stool wound dressing drain tube ngt peg family called relative
update stable unwell deteriorating news2 escalate sepsis screen lactate culture antibiotics
vancomycin gentamicin levels trough peak due overdue given held refused sleeping confused
delirium falls risk mobility physio ot social work bed manager side room isolation covid
flu mrsa cdiff swab negative positive awaiting pending scan ct mri ultrasound booked today
tomorrow morning afternoon evening am pm asap now thanks ok yes no can you could check
kg weight height bmi diet diabetic renal cardiac respiratory surgical medical ortho neuro
stroke mi pe dvt aki ckd copd asthma pneumonia uti cellulitis fracture hip knee spine
abdomen distended tender soft vomiting nausea diarrhoea constipation bowels opened mobilising
chair walking frame hoist pressure area skin intact red grade pressure ulcer turns hourly
two hourly four hourly review plan ceiling treatment dnacpr resus status palliative comfort
end of life family meeting consent capacity best interests safeguarding referral
pharmacy tto prescription chart rewrite drug error incident datix sbar situation background
assessment recommendation`)

func searchBenchMessage(r *rand.Rand, rare []string, i int) Message {
	conv := fmt.Sprintf("clinician%03d@hospital.example", i%benchConvs)
	n := 12 + r.IntN(19)
	var b strings.Builder
	for j := range n {
		if j > 0 {
			b.WriteByte(' ')
		}
		switch x := r.IntN(100); {
		case x < 8:
			b.WriteString(rare[r.IntN(len(rare))])
		case x < 14:
			fmt.Fprintf(&b, "%d", r.IntN(200))
		default:
			// Zipf-like: low indexes far more often.
			k := int(float64(len(clinicalWords)) * r.Float64() * r.Float64())
			b.WriteString(clinicalWords[k])
		}
	}
	m := benchMessage(i)
	m.Body = b.String()
	m.Extra = map[string]string{ExtraSender: conv}
	if i%20 == 0 {
		m.Urgency = UrgencyHigh
	}
	if i%50 == 7 { // 1 in 50 tagged with one of 500 patients in 40 beds
		m.Extra[ExtraPatientMRN] = fmt.Sprintf("%d", 100000+i%500)
		m.Extra[ExtraPatientBed] = fmt.Sprintf("%d", i%40)
	}
	return m
}

func searchBenchRare() []string {
	r := rand.New(rand.NewPCG(7, 7))
	const letters = "abcdefghijklmnopqrstuvwxyz"
	out := make([]string, 5000)
	for i := range out {
		n := 5 + r.IntN(6)
		w := make([]byte, n)
		for j := range w {
			w[j] = letters[r.IntN(len(letters))]
		}
		out[i] = string(w)
	}
	return out
}

func searchStore(b *testing.B) string {
	searchStoreOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rounds-search-bench")
		if err != nil {
			b.Fatal(err)
		}
		searchStorePath = filepath.Join(dir, "search100k.db")
		s, err := Create(searchStorePath, testPIN, benchOptions())
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		rare := searchBenchRare()
		batch := make([]Message, 0, 1000)
		for i := 0; i < benchMessages; i++ {
			batch = append(batch, searchBenchMessage(r, rare, i))
			if len(batch) == cap(batch) {
				if _, err := s.AppendMessages(batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		s.Close()
	})
	return searchStorePath
}

// searchBenchQueries: a rare word, a common word, two words, a two-letter
// prefix (the widest as-you-type case), a filter alone, a word in one
// conversation, and a patient's bed alone.
func searchBenchQueries() []struct {
	name string
	q    SearchQuery
} {
	rare := searchBenchRare()
	return []struct {
		name string
		q    SearchQuery
	}{
		{"rare", SearchQuery{Text: rare[17]}},
		{"common", SearchQuery{Text: "potassium"}},
		{"twowords", SearchQuery{Text: "potassium review"}},
		{"prefix2", SearchQuery{Text: "po"}},
		{"urgentonly", SearchQuery{MinUrgency: UrgencyHigh}},
		{"inconv", SearchQuery{Text: "glucose", Conversation: "clinician042@hospital.example"}},
		{"patientbed", SearchQuery{Patient: PatientMatch{Bed: "17"}}},
	}
}

// BenchmarkSearch100k: Search on the built index (warm, as after the first
// search), each query against two baselines in the same run: the same
// question answered by a linear scan of bodies already in memory, and by a
// linear scan of the sealed store (opening every record, what search would
// cost with no index).
func BenchmarkSearch100k(b *testing.B) {
	path := searchStore(b)
	s, err := Open(path, testPIN, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.BuildSearchIndex(); err != nil {
		b.Fatal(err)
	}
	var all []Message
	r := rand.New(rand.NewPCG(1, 2))
	rare := searchBenchRare()
	for i := 0; i < benchMessages; i++ {
		all = append(all, searchBenchMessage(r, rare, i))
	}
	for _, c := range searchBenchQueries() {
		qw := words(c.q.Text)
		b.Run(c.name+"/index", func(b *testing.B) {
			hits := 0
			for n := 0; n < b.N; n++ {
				res, err := s.Search(c.q)
				if err != nil {
					b.Fatal(err)
				}
				hits = res.Candidates
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/query")
			b.ReportMetric(float64(hits), "matches")
		})
		b.Run(c.name+"/scan-memory", func(b *testing.B) {
			for n := 0; n < b.N; n++ {
				hits := 0
				for i := range all {
					m := &all[i]
					if (c.q.Conversation == "" || m.ConversationID == c.q.Conversation) &&
						m.Urgency >= c.q.MinUrgency && bodyMatches(m.Body, qw) &&
						(!c.q.Patient.set() || c.q.Patient.matches(m.Extra[ExtraPatientMRN], m.Extra[ExtraPatientName], m.Extra[ExtraPatientBed])) {
						hits++
					}
				}
				if hits == 0 {
					b.Fatal("scan found nothing")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/query")
		})
		if c.name != "common" {
			continue // one store scan is enough to show its cost
		}
		b.Run(c.name+"/scan-store", func(b *testing.B) {
			for n := 0; n < b.N; n++ {
				hits := 0
				err := s.view(func(tx *bbolt.Tx) error {
					return tx.Bucket(bucketMsg).ForEach(func(k, v []byte) error {
						m, err := s.openMessage(tx, k, v, nil)
						if err == nil && bodyMatches(m.Body, qw) {
							hits++
						}
						return nil
					})
				})
				if err != nil || hits == 0 {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/query")
		})
	}
}

// BenchmarkSearchIndexBuild100k: the first search after unlock builds the
// index from the sealed records; time, heap held, and per message.
func BenchmarkSearchIndexBuild100k(b *testing.B) {
	path := searchStore(b)
	s, err := Open(path, testPIN, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var total time.Duration
	var heap uint64
	for n := 0; n < b.N; n++ {
		s.dropSearch()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		if err := s.BuildSearchIndex(); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
	}
	x := s.search.Load()
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/build")
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/float64(len(x.docs))/1000, "µs/msg")
	b.ReportMetric(float64(heap)/(1<<20), "MiB")
	b.ReportMetric(float64(len(x.vocab)), "words")
}

// BenchmarkSearchIndexAdd: what an active index adds to each stored message
// (the upsert AppendMessages makes after commit), on the 100k index.
func BenchmarkSearchIndexAdd(b *testing.B) {
	path := searchStore(b)
	s, err := Open(path, testPIN, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.BuildSearchIndex(); err != nil {
		b.Fatal(err)
	}
	x := s.search.Load()
	r := rand.New(rand.NewPCG(9, 9))
	rare := searchBenchRare()
	entries := make([]indexEntry, 10_000)
	for i := range entries {
		m := searchBenchMessage(r, rare, benchMessages+i)
		m.ID = MessageID(benchMessages + 1 + i)
		entries[i] = entryOf(&m)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		e := entries[n%len(entries)]
		e.id = MessageID(benchMessages + 1 + n)
		x.mu.Lock()
		x.upsert(e)
		x.mu.Unlock()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/msg")
}
