package securestore

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// fuzzKey is a fixed key so fuzzed inputs can include validly sealed records.
var fuzzKey = make([]byte, keySize)

// FuzzRecordDecode feeds arbitrary bytes to the record envelope decoder, the
// record opener and every payload decoder. None may panic; a message payload
// that decodes must re-encode to an equal message.
func FuzzRecordDecode(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	aead := newAEAD(fuzzKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		if env, err := decodeEnvelope(b); err == nil {
			if pt, err := openEnvelope(aead, env, bucketMsg, be64(1)); err == nil {
				decodeMessage(pt, 1)
			}
		}
		if m, err := decodeMessage(b, 7); err == nil {
			m2, err := decodeMessage(encodeMessage(nil, &m), 7)
			if err != nil || !reflect.DeepEqual(m, m2) {
				t.Fatalf("message does not round-trip: %v", err)
			}
		}
		decodeConversation(b)
		decodeContact(b)
		decodeAccount(b)
		decodeAttachment(b)
		decodeAudit(b)
		if a, err := decodeAvatar(b); err == nil {
			if a2, err := decodeAvatar(encodeAvatar(&a)); err != nil || !reflect.DeepEqual(a, a2) {
				t.Fatalf("avatar does not round-trip: %v", err)
			}
		}
	})
}

func fuzzMessage() Message {
	m := incoming("icu@muc.h.example", "st-1", "Pt in bed 4: K+ 6.1", time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC))
	m.ReceivedAt = m.Timestamp.Add(time.Second)
	m.Urgency = UrgencyCritical
	m.Receipt.advance(ReceiptQueued, m.Timestamp, "")
	m.Members = map[string]Receipt{"dr@h.example": {State: ReceiptFailed, Reason: "offline"}}
	m.Extra = map[string]string{"replace": "st-0"}
	return m
}

func fuzzSeeds() [][]byte {
	m := fuzzMessage()
	payload := encodeMessage(nil, &m)
	sealed := sealV2(nil, newAEAD(fuzzKey), 20000, bucketMsg, be64(1), payload)
	return [][]byte{
		payload,
		sealed,
		sealV1(nil, newAEAD(fuzzKey), bucketMsg, be64(1), payload),
		payload[:len(payload)/2],             // truncated payload
		append([]byte{9}, payload[1:]...),    // newer payload version
		sealed[:v2HeaderSize+3],              // short record
		{},                                   // empty
		{0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f}, // huge length
		encodeAvatar(&Avatar{ID: "111f4b3c50d7b0df729d299bc6f8e9ef9066971f", Type: "image/png", Data: []byte("png"), Fetched: m.Timestamp}),
	}
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzRecordDecode with -update.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate the fuzz seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRecordDecode")
	os.MkdirAll(dir, 0o755)
	for i, s := range fuzzSeeds() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed_%02d", i)), []byte(body), 0o644)
	}
}

func TestMessageCodecRoundTrip(t *testing.T) {
	m := fuzzMessage()
	got, err := decodeMessage(encodeMessage(nil, &m), 0)
	m.ID = 0
	if err != nil || !reflect.DeepEqual(m, got) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, m, got)
	}
	_, err = decodeMessage(append([]byte{payloadV1 + 1}, 0), 0)
	wantErr(t, err, ErrNewerVersion)
	_, err = decodeEnvelope([]byte{0x09, 1, 2})
	wantErr(t, err, ErrNewerVersion)
	_, err = decodeEnvelope([]byte{recordV2, 1})
	wantErr(t, err, ErrCorrupt)
}
