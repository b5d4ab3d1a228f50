package cli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// scheduleColumns are the CSV header names; role, jid, from and until are
// required, backup and orders optional, in any order.
var scheduleColumns = []string{"role", "jid", "from", "until", "backup", "orders"}

// parseScheduleCSV reads an on-call schedule exported from a rota system:
//
//	role,jid,from,until,backup,orders
//	Cardiology on call,dr.osei@hospital.org,2026-11-22T08:00:00Z,2026-11-22T20:00:00Z,dr.ali@hospital.org,true
//
// Times are RFC 3339 with an offset or Z: a shift "from 08:00" without a zone
// is a different shift in every time zone, so it is refused rather than
// guessed. Lines starting with # are comments.
func parseScheduleCSV(data []byte) ([]shift, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // spreadsheet BOM
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty file")
	}
	if err != nil {
		return nil, csvError(err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		known := false
		for _, c := range scheduleColumns {
			known = known || c == name
		}
		if !known {
			return nil, fmt.Errorf("line 1: unknown column %q (want %s)", h, strings.Join(scheduleColumns, ","))
		}
		if _, dup := col[name]; dup {
			return nil, fmt.Errorf("line 1: column %q twice", name)
		}
		col[name] = i
	}
	for _, c := range scheduleColumns[:4] {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("line 1: no %q column (the header must name %s)", c, strings.Join(scheduleColumns, ","))
		}
	}
	var shifts []shift
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := r.FieldPos(0)
		where := fmt.Sprintf("line %d", line)
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s: %d fields, the header has %d", where, len(rec), len(header))
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		s := shift{Role: get("role"), JID: get("jid"), Backup: get("backup"), where: where}
		if s.From, err = parseShiftTime(get("from")); err != nil {
			return nil, fmt.Errorf("%s: from: %v", where, err)
		}
		if s.Until, err = parseShiftTime(get("until")); err != nil {
			return nil, fmt.Errorf("%s: until: %v", where, err)
		}
		if s.Orders, err = parseYesNo(get("orders")); err != nil {
			return nil, fmt.Errorf("%s: orders: %v", where, err)
		}
		shifts = append(shifts, s)
		if len(shifts) > maxScheduleShifts {
			return nil, fmt.Errorf("more than %d shifts", maxScheduleShifts)
		}
	}
	return shifts, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	return err
}

// parseShiftTime accepts RFC 3339 with a zone (Z or an offset).
func parseShiftTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, errors.New("missing")
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time with a zone, e.g. 2026-11-22T08:00:00Z or 2026-11-22T08:00:00+01:00", v)
	}
	return t, nil
}

func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "no", "0":
		return false, nil
	case "true", "yes", "1":
		return true, nil
	}
	return false, fmt.Errorf("%q: want true or false", v)
}
