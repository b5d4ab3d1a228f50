package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/app"
	"rounds/sync/xmpp"
)

func readScheduleFile(t *testing.T, path string) ([]shift, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readSchedule(path, bytes.NewReader(b))
}

// TestScheduleExamplesAgree: the CSV and iCal examples in docs/examples
// describe the same rota, and read to the same shifts.
func TestScheduleExamplesAgree(t *testing.T) {
	fromCSV, err := readScheduleFile(t, "../docs/examples/oncall.csv")
	if err != nil {
		t.Fatal(err)
	}
	fromICal, err := readScheduleFile(t, "../docs/examples/oncall.ics")
	if err != nil {
		t.Fatal(err)
	}
	a, b := scheduleElement(fromCSV).String(), scheduleElement(fromICal).String()
	if a != b {
		t.Fatalf("CSV and iCal examples differ:\n%s\n%s", a, b)
	}
	if len(fromCSV) != 4 {
		t.Fatalf("%d shifts, want 4", len(fromCSV))
	}
	first := fromCSV[0]
	want := shift{Role: "Cardiology on call", JID: "dr.osei@rounds.test", Backup: "charge.nurse@rounds.test", Orders: true,
		From: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)}
	first.where = ""
	if first != want {
		t.Fatalf("first shift %+v, want %+v", first, want)
	}
	if !strings.Contains(a, `<shift xmlns="urn:rounds:oncall:0"`) && !strings.Contains(a, `<schedule xmlns="urn:rounds:oncall:0"><shift role=`) {
		t.Fatalf("payload not in the on-call namespace: %s", a)
	}
}

func TestScheduleGoodFixtures(t *testing.T) {
	s, err := readScheduleFile(t, "testdata/good_reordered.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 || s[0].Role != "Cardiology, on call" || s[0].Backup != "" || s[0].Orders ||
		!s[0].From.Equal(time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)) || s[0].From.Location() != time.UTC {
		t.Fatalf("good_reordered.csv: %+v", s)
	}
	s, err = readScheduleFile(t, "testdata/good_folded.ics")
	if err != nil {
		t.Fatal(err)
	}
	// The cancelled event is not a shift; Berlin 09:00 is 08:00 UTC in November.
	if len(s) != 1 || s[0].Role != "Cardiology, on call" || s[0].JID != "dr.osei@rounds.test" ||
		!s[0].From.Equal(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)) ||
		!s[0].Until.Equal(time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)) {
		t.Fatalf("good_folded.ics: %+v", s)
	}
}

// TestScheduleFailFixtures: every fail_* file is refused with an error that
// names the problem (and, where there is one, the line).
func TestScheduleFailFixtures(t *testing.T) {
	want := map[string]string{
		"fail_no_header_column.csv":    `no "until" column`,
		"fail_unknown_column.csv":      `unknown column "pager"`,
		"fail_floating_time.csv":       "line 2: from: \"2026-11-23 08:00\" is not an RFC 3339 time with a zone",
		"fail_ends_before_start.csv":   "line 2: ends",
		"fail_overlap.csv":             "line 3 overlaps line 2",
		"fail_bad_jid.csv":             `line 2: holder "dr.osei": want user@domain`,
		"fail_bad_orders.csv":          `line 2: orders: "maybe"`,
		"fail_short_row.csv":           "line 2: 3 fields, the header has 6",
		"fail_backup_is_holder.csv":    "line 2: backup is the holder",
		"fail_no_role.csv":             "line 2: no role",
		"fail_no_holder.csv":           `line 2: holder ""`,
		"fail_header_only.csv":         "no shifts",
		"fail_bare_quote.csv":          "line 2:",
		"fail_rrule.ics":               "line 7: RRULE (recurring events) is not supported",
		"fail_floating_time.ics":       "floating time",
		"fail_all_day.ics":             "is a DATE",
		"fail_two_attendees.ics":       "2 attendees; name the holder with X-ROUNDS-JID",
		"fail_no_holder.ics":           "no holder",
		"fail_unknown_tzid.ics":        `TZID "Mars/Olympus" is not in the time zone database`,
		"fail_duration.ics":            "DURATION is not supported",
		"fail_truncated.ics":           "END:VCALENDAR missing",
		"fail_summary_twice.ics":       "line 5: SUMMARY twice in one event",
		"fail_no_calendar.ics":         "line 1: file must start with BEGIN:VCALENDAR",
		"fail_attendee_not_mailto.ics": "is not a mailto: address",
	}
	files, _ := filepath.Glob("testdata/fail_*.*")
	seen := 0
	for _, f := range files {
		if ext := filepath.Ext(f); ext != ".csv" && ext != ".ics" || strings.HasPrefix(filepath.Base(f), "fail_audit_") {
			continue // audit exports have their own test
		}
		seen++
		name := filepath.Base(f)
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expected error listed", name)
			continue
		}
		_, err := readScheduleFile(t, f)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), w) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q, want it to name the file and say %q", name, err, w)
		}
	}
	if seen != len(want) {
		t.Errorf("%d fail fixtures on disk, %d listed", seen, len(want))
	}
}

func TestScheduleUnknownExtension(t *testing.T) {
	if _, err := readSchedule("rota.xlsx", strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "want a .csv or .ics") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzScheduleCSV and FuzzScheduleICal: any input is read or refused, never a
// panic, and whatever is accepted is a valid schedule that survives the wire.
func FuzzScheduleCSV(f *testing.F) {
	for _, p := range fixtureSeeds(f, "*.csv") {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzSchedule(t, "f.csv", data) })
}

func FuzzScheduleICal(f *testing.F) {
	for _, p := range fixtureSeeds(f, "*.ics") {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzSchedule(t, "f.ics", data) })
}

func fixtureSeeds(f *testing.F, pattern string) [][]byte {
	var out [][]byte
	for _, dir := range []string{"testdata", "../docs/examples"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

func fuzzSchedule(t *testing.T, name string, data []byte) {
	shifts, err := readSchedule(name, bytes.NewReader(data))
	if err != nil {
		return
	}
	if err := checkSchedule(shifts); err != nil {
		t.Fatalf("accepted a schedule that does not check: %v", err)
	}
	el := scheduleElement(shifts)
	back, err := xmpp.DecodeElement([]byte(el.String()), xmpp.Limits{})
	if err != nil {
		t.Fatalf("payload does not decode: %v\n%s", err, el)
	}
	if got := len(back.ChildrenNamed(nsOnCall, "shift")); got != len(shifts) {
		t.Fatalf("%d shifts on the wire, %d read", got, len(shifts))
	}
}

// TestResolveShift: a role resolves to whoever's shift covers the moment
// (from inclusive, until exclusive), the later-started of two overlapping
// shifts, the backup of a vacant shift; unknown roles and gaps are refused.
func TestResolveShift(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 23, h, 0, 0, 0, time.UTC) }
	shifts := []app.Shift{
		{Role: "Cardiology on call", JID: "dr.osei@x", From: at(8), Until: at(20)},
		{Role: "Cardiology on call", JID: "dr.ali@x", From: at(19), Until: at(23)}, // early handover
		{Role: "Charge nurse ICU", Backup: "nurse.kim@x", From: at(8), Until: at(20)},
	}
	cases := []struct {
		role string
		at   time.Time
		want string
		code int
	}{
		{"Cardiology on call", at(8), "dr.osei@x", 0},
		{"cardiology ON CALL ", at(12), "dr.osei@x", 0},
		{"Cardiology on call", at(19), "dr.ali@x", 0},
		{"Cardiology on call", at(20), "dr.ali@x", 0},
		{"Cardiology on call", at(23), "", ExitRefused},
		{"Cardiology on call", at(7), "", ExitRefused},
		{"Charge nurse ICU", at(9), "nurse.kim@x", 0},
		{"Neurology on call", at(9), "", ExitRefused},
	}
	for _, c := range cases {
		got, _, err := app.RoleHolderAt(shifts, c.role, c.at)
		err = roleError(err, c.role, c.at)
		if got != c.want || codeOf(err) != c.code {
			t.Errorf("%q at %s: %q, %v; want %q (exit %d)", c.role, c.at.Format("15:04"), got, err, c.want, c.code)
		}
	}
}

// TestSchedulePayloadFitsAPubSubItem: the server refuses a publish over its
// 256 KiB stanza limit, and the schedule reaches devices wrapped in a pubsub
// answer. The
// largest schedule accepted still reads on a device once wrapped; the next
// one up, which the devices' decoder would still take bare (the check used
// to stop there), is refused with a message that says what to do; a month of
// a large hospital's rota is refused the same way by the command itself.
func TestSchedulePayloadFitsAPubSubItem(t *testing.T) {
	rota := func(n int) []shift {
		t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		var out []shift
		for i := 0; i < n; i++ {
			out = append(out, shift{Role: fmt.Sprintf("Cardiology on call %02d", i%40), JID: "dr.osei@hospital.org",
				Backup: "dr.lind@hospital.org", From: t0.Add(time.Duration(i/40) * 12 * time.Hour),
				Until: t0.Add(time.Duration(i/40+1) * 12 * time.Hour), Orders: true, where: "row"})
		}
		return out
	}
	size := func(n int) int { return len(scheduleElement(rota(n)).String()) }
	n, hi := 1, 4000 // size(n) fits, size(hi) does not
	for hi-n > 1 {
		if mid := (n + hi) / 2; size(mid) <= app.MaxScheduleDocumentBytes {
			n = mid
		} else {
			hi = mid
		}
	}
	largest := scheduleElement(rota(n))
	if err := app.CheckScheduleDocument(largest); err != nil {
		t.Fatalf("%d shifts refused: %v", n, err)
	}
	wrapped := xmpp.NewElement(xmpp.NSClient, "iq", "type", "result", "from", "pubsub.hospital.org",
		"to", "charge.nurse@hospital.org/rounds-7f3k2m", "id", "k3x9q2m7v1b8").Append(
		xmpp.NewElement("http://jabber.org/protocol/pubsub", "pubsub").Append(
			xmpp.NewElement("http://jabber.org/protocol/pubsub", "items", "node", nsOnCall).Append(
				xmpp.NewElement("http://jabber.org/protocol/pubsub", "item", "id", itemCurrent, "publisher", "it.admin@hospital.org").Append(largest))))
	if _, err := xmpp.DecodeElement([]byte(wrapped.String()), xmpp.DefaultLimits()); err != nil {
		t.Fatalf("the largest accepted schedule (%d shifts) does not reach a device: %v", n, err)
	}
	over := scheduleElement(rota(n + 1))
	if _, err := xmpp.DecodeSchedule([]byte(over.String())); err != nil {
		t.Fatalf("test premise: %d shifts should still decode bare: %v", n+1, err)
	}
	if err := app.CheckScheduleDocument(over); err == nil || !strings.Contains(err.Error(), "publish a shorter period") {
		t.Fatalf("%d shifts (%d bytes): err %v", n+1, len(over.String()), err)
	}

	var csv strings.Builder
	csv.WriteString("role,jid,from,until,backup,orders\n")
	for _, s := range rota(2400) { // 40 roles, two shifts a day, a month
		csv.WriteString(s.Role + "," + s.JID + "," + s.From.Format(time.RFC3339) + "," + s.Until.Format(time.RFC3339) + "," + s.Backup + ",true\n")
	}
	p := filepath.Join(t.TempDir(), "month.csv")
	if err := os.WriteFile(p, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "admin", "publish-oncall", "--dry-run", p)
	if code != ExitUsage || out != "" || !strings.Contains(errOut, "2400 shifts") || !strings.Contains(errOut, "publish a shorter period") {
		t.Fatalf("a month's rota: exit %d, stdout %d bytes, stderr %q", code, len(out), errOut)
	}
}
