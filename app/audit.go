package app

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// The audit log is securestore's hash chain: every entry's hash covers the
// previous one, so editing or deleting an entry breaks the chain. The export
// carries each entry with its hashes and the chain's head (count and last
// hash), so VerifyAuditExport — `rounds audit verify FILE` — can check a
// copy handed to a reviewer without the device or its PIN. What a file alone
// cannot prove: a forger who rewrites the tail and the head together. Each
// export is itself audited with the head it exported, so the next export (or
// the device) contradicts a truncated earlier one.

// Audit kinds written by the app (securestore's own are sign-in,
// unlock-failed, pin-changed, keyring-*, export, recall, purge, wipe).
const (
	AuditPolicyChanged = auditPolicyChanged
	AuditWipeIgnored   = "wipe-ignored"
	AuditUrgentAck     = "urgent-ack"
	AuditOrderRefused  = auditOrderRefused
	// AuditTextAck is written by the sync engine when a plain-text reply
	// acknowledged a page (ids and the JID only).
	AuditTextAck = sync.AuditTextAck
)

// AuditRow is one audit entry as the viewer shows it.
type AuditRow struct {
	Seq    uint64
	Time   time.Time
	Kind   string
	Detail string
}

// ErrAuditTampered: an audit export (or the log itself) does not verify: an
// entry was changed, removed, reordered or added.
var ErrAuditTampered = errors.New("the audit log does not verify: an entry was changed or removed")

// ErrExportFormat: the export format is not "json" or "csv".
var ErrExportFormat = errors.New(`export format must be "json" or "csv"`)

// audit appends an entry to the open store's audit log; failures are logged,
// never fatal to the action audited. detail must not hold PHI.
func (c *Client) audit(kind, detail string) {
	st, err := c.unlocked()
	if err != nil {
		c.log.Warn("app: audit while locked", "kind", kind)
		return
	}
	c.auditWith(st, kind, detail)
}

func (c *Client) auditWith(st *securestore.Store, kind, detail string) {
	if err := st.Audit(kind, detail); err != nil {
		c.log.Warn("app: audit", "kind", kind, "err", err)
	}
}

// AuditEntries lists the audit log, oldest first. AuditIntact says whether
// the log verifies.
func (c *Client) AuditEntries() ([]AuditRow, error) {
	st, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	es, err := st.AuditLog()
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]AuditRow, len(es))
	for i, e := range es {
		out[i] = AuditRow{Seq: e.Seq, Time: e.Time, Kind: e.Kind, Detail: e.Detail}
	}
	return out, nil
}

// AuditIntact verifies the device's audit chain (nil, or ErrAuditTampered
// with where it breaks).
func (c *Client) AuditIntact() error {
	st, err := c.unlocked()
	if err != nil {
		return err
	}
	if err := st.VerifyAudit(); err != nil {
		if errors.Is(err, securestore.ErrAuditBroken) {
			return fmt.Errorf("%w: %v", ErrAuditTampered, err)
		}
		return mapErr(err)
	}
	return nil
}

// auditExportFormat names the export's layout; VerifyAuditExport refuses
// others.
const auditExportFormat = "rounds-audit/1"

type auditFile struct {
	Format   string       `json:"format"`
	Account  string       `json:"account"`
	Exported time.Time    `json:"exported"`
	Entries  []auditEntry `json:"entries"`
	Head     auditHead    `json:"head"`
}

type auditEntry struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail"`
	Prev   string    `json:"prev"`
	Hash   string    `json:"hash"`
}

type auditHead struct {
	Count uint64 `json:"count"`
	Hash  string `json:"hash"`
}

var csvAuditHeader = []string{"seq", "time", "kind", "detail", "prev", "hash"}

// ExportAudit writes the audit log to w as format "json" or "csv" (with the
// hashes, so VerifyAuditExport can check it) after auditing the export itself.
// A log that does not verify on the device is still exported (a reviewer
// needs it most then), and the error says so.
func (c *Client) ExportAudit(w io.Writer, format string) error {
	if format != "json" && format != "csv" {
		return ErrExportFormat
	}
	st, err := c.unlocked()
	if err != nil {
		return err
	}
	before, err := st.AuditLog()
	if err != nil {
		return mapErr(err)
	}
	head := "none"
	if n := len(before); n > 0 {
		head = hex.EncodeToString(before[n-1].Hash[:])
	}
	if err := st.Audit(securestore.AuditExport, fmt.Sprintf("audit log exported as %s: %d entries, head %s", format, len(before), head)); err != nil {
		return mapErr(err)
	}
	es, err := st.AuditLog()
	if err != nil {
		return mapErr(err)
	}
	intact := st.VerifyAudit()
	f := auditFile{Format: auditExportFormat, Account: c.Account(), Exported: c.cfg.Clock.Now().UTC(), Entries: make([]auditEntry, len(es))}
	for i, e := range es {
		f.Entries[i] = auditEntry{Seq: e.Seq, Time: e.Time.UTC(), Kind: e.Kind, Detail: e.Detail,
			Prev: hex.EncodeToString(e.Prev[:]), Hash: hex.EncodeToString(e.Hash[:])}
	}
	if n := len(es); n > 0 {
		f.Head = auditHead{Count: es[n-1].Seq, Hash: f.Entries[n-1].Hash}
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(f)
	} else {
		err = writeAuditCSV(w, f)
	}
	if err != nil {
		return err
	}
	if intact != nil {
		return fmt.Errorf("%w (exported anyway): %v", ErrAuditTampered, intact)
	}
	return nil
}

// The CSV layout: a header row, one row per entry, then a head row
// ("head", count, "", "", "", last hash). Times are RFC 3339 with
// nanoseconds, so the hashes can be recomputed.
func writeAuditCSV(w io.Writer, f auditFile) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvAuditHeader); err != nil {
		return err
	}
	for _, e := range f.Entries {
		if err := cw.Write([]string{strconv.FormatUint(e.Seq, 10), e.Time.Format(time.RFC3339Nano), e.Kind, e.Detail, e.Prev, e.Hash}); err != nil {
			return err
		}
	}
	if err := cw.Write([]string{"head", strconv.FormatUint(f.Head.Count, 10), "", "", "", f.Head.Hash}); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// maxAuditExport bounds what VerifyAuditExport reads (a year of heavy use is
// well under 1 MiB).
const maxAuditExport = 64 << 20

// VerifyAuditExport checks an audit export (JSON or CSV, as ExportAudit wrote
// it): sequence numbers contiguous from 1, each entry's hash recomputed, each
// entry chained to the one before, and the head matching the last entry. Any
// change of an entry's time, kind or detail, a removed, reordered or inserted
// entry, or a truncated tail (unless the head was rewritten to match) returns
// an error matching ErrAuditTampered; a file that is not an audit export
// returns another error saying what is wrong.
func VerifyAuditExport(r io.Reader) error {
	br := bufio.NewReader(io.LimitReader(r, maxAuditExport+1))
	data, err := io.ReadAll(br)
	if err != nil {
		return fmt.Errorf("reading the audit export: %w", err)
	}
	if len(data) > maxAuditExport {
		return fmt.Errorf("not an audit export: larger than %d MiB", maxAuditExport>>20)
	}
	var f auditFile
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return fmt.Errorf("not an audit export (JSON): %w", err)
		}
		if f.Format != auditExportFormat {
			return fmt.Errorf("not an audit export: format %q, want %q", f.Format, auditExportFormat)
		}
	} else if f, err = readAuditCSV(trimmed); err != nil {
		return err
	}
	return verifyChain(f)
}

func readAuditCSV(data []byte) (auditFile, error) {
	var f auditFile
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = len(csvAuditHeader)
	rows, err := cr.ReadAll()
	if err != nil {
		return f, fmt.Errorf("not an audit export (CSV): %w", err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != strings.Join(csvAuditHeader, ",") {
		return f, errors.New("not an audit export (CSV): the first row must be " + strings.Join(csvAuditHeader, ","))
	}
	last := rows[len(rows)-1]
	if last[0] != "head" {
		return f, fmt.Errorf("%w: the head row is missing (the file was cut short)", ErrAuditTampered)
	}
	n, err := strconv.ParseUint(last[1], 10, 64)
	if err != nil {
		return f, fmt.Errorf("not an audit export (CSV): head count %q", last[1])
	}
	f.Head = auditHead{Count: n, Hash: last[5]}
	for i, row := range rows[1 : len(rows)-1] {
		seq, err := strconv.ParseUint(row[0], 10, 64)
		if err != nil {
			return f, fmt.Errorf("not an audit export (CSV): row %d: sequence %q", i+2, row[0])
		}
		t, err := time.Parse(time.RFC3339Nano, row[1])
		if err != nil {
			return f, fmt.Errorf("%w: row %d: time %q", ErrAuditTampered, i+2, row[1])
		}
		f.Entries = append(f.Entries, auditEntry{Seq: seq, Time: t, Kind: row[2], Detail: row[3], Prev: row[4], Hash: row[5]})
	}
	return f, nil
}

func verifyChain(f auditFile) error {
	var prev [32]byte
	for i, e := range f.Entries {
		want := uint64(i + 1)
		if e.Seq != want {
			return fmt.Errorf("%w: entry %d missing or out of place (found %d)", ErrAuditTampered, want, e.Seq)
		}
		p, err1 := decodeHash(e.Prev)
		h, err2 := decodeHash(e.Hash)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("%w: entry %d: malformed hash", ErrAuditTampered, e.Seq)
		}
		if p != prev {
			return fmt.Errorf("%w: entry %d does not follow entry %d", ErrAuditTampered, e.Seq, e.Seq-1)
		}
		if auditHash(prev, e.Seq, e.Time, e.Kind, e.Detail) != h {
			return fmt.Errorf("%w: entry %d was changed", ErrAuditTampered, e.Seq)
		}
		prev = h
	}
	n := uint64(len(f.Entries))
	hh, err := decodeHash(f.Head.Hash)
	if f.Head.Count != n || (n > 0 && (err != nil || hh != prev)) || (n == 0 && f.Head.Hash != "") {
		return fmt.Errorf("%w: the log ends at entry %d but its head says %d", ErrAuditTampered, n, f.Head.Count)
	}
	if n == 0 {
		return fmt.Errorf("%w: the export holds no entries", ErrAuditTampered)
	}
	return nil
}

func decodeHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, errors.New("bad hash")
	}
	copy(h[:], b)
	return h, nil
}

// auditHash recomputes securestore's entry hash (securestore/audit.go
// computeHash: "rounds/audit/v1" ‖ prev ‖ seq (big-endian) ‖ time ‖ kind ‖
// detail, with the store codec's varint time and length-prefixed strings).
// TestAuditHashMatchesStore keeps the two in step.
func auditHash(prev [32]byte, seq uint64, t time.Time, kind, detail string) [32]byte {
	b := []byte("rounds/audit/v1")
	b = append(b, prev[:]...)
	b = binary.BigEndian.AppendUint64(b, seq)
	if t.IsZero() {
		b = binary.AppendVarint(b, 0)
	} else {
		n := t.UnixNano()
		if n >= 0 {
			n++
		}
		b = binary.AppendVarint(b, n)
	}
	b = binary.AppendUvarint(b, uint64(len(kind)))
	b = append(b, kind...)
	b = binary.AppendUvarint(b, uint64(len(detail)))
	b = append(b, detail...)
	return sha256.Sum256(b)
}
