package sync

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestModel is the model-based test of the engine (docs/PROTOCOL.md, "The
// model-based test"). Each seed draws a random schedule of steps — live
// messages 1:1 and in a room, carbons from a second device, archive catch-up
// after time offline, duplicated and reordered deliveries, socket cuts,
// outages longer than the server keeps a session, server restarts, SIGKILL of
// the client mid-send and mid-catch-up, clock jumps — and runs it against a
// real Prosody with real Sessions. A plain model (model_world_test.go) says
// what must then be true; the invariants are checked after the schedule:
//
//   - every genuine message is stored exactly once, in the right conversation,
//     with its true sender and direction and a timestamp inside the window in
//     which it could have been sent and received;
//   - nothing else is stored (nothing forged, nothing twice);
//   - every outgoing message reached the server exactly once: the peer's (or
//     the room's) archive holds it once, and the peer's store once; the
//     Outbox is empty;
//   - everything in the account's archive and the room's archive is in the
//     store (catch-up never skipped a message);
//   - every Session is online again.
//
// The CI run is a fixed set of seeds with short schedules. A longer run:
//
//	ROUNDS_MODEL_SEEDS=200 go test -count=1 -timeout 0 -run TestModel ./sync/
//
// One seed, as printed by a failure:
//
//	ROUNDS_MODEL_SEED=17 ROUNDS_MODEL_STEPS=8 go test -count=1 -run TestModel ./sync/
//
// ROUNDS_MODEL_STEPS sets the schedule length, ROUNDS_MODEL_FIRST the first
// seed of a ROUNDS_MODEL_SEEDS run, and ROUNDS_MODEL_ENABLE=kind,kind also
// draws steps that are switched off below (hostileSteps).
func TestModel(t *testing.T) {
	seeds, steps := modelSeeds(t)
	enabled := enabledSteps(os.Getenv("ROUNDS_MODEL_ENABLE"))
	if os.Getenv("ROUNDS_MODEL_SEED") == "" && os.Getenv("ROUNDS_MODEL_SEEDS") == "" {
		// The CI seeds must between them exercise every enabled kind of step,
		// or a kind would silently go untested.
		seen := map[string]bool{}
		for _, seed := range seeds {
			for _, st := range drawSchedule(seed, steps, enabled) {
				seen[st.Kind] = true
			}
		}
		for _, k := range enabled {
			if !seen[k] {
				t.Fatalf("the CI seeds %v never draw a %q step: choose seeds that do", seeds, k)
			}
		}
	}
	for _, seed := range seeds {
		seed := seed
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			schedule := drawSchedule(seed, steps, enabled)
			runModel(t, seed, steps, schedule)
		})
	}
}

// modelCISeeds run in CI; together they draw every enabled kind of step
// (TestModel checks that).
var modelCISeeds = []int64{1, 2, 3, 9, 30, 50}

// modelCISteps is the schedule length in CI: short, so the whole test stays
// within about three minutes on two busy cores.
const modelCISteps = 7

func modelSeeds(t *testing.T) ([]int64, int) {
	steps := modelCISteps
	if v := os.Getenv("ROUNDS_MODEL_STEPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("ROUNDS_MODEL_STEPS=%q: want a positive number", v)
		}
		steps = n
	}
	if v := os.Getenv("ROUNDS_MODEL_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("ROUNDS_MODEL_SEED=%q: want a number", v)
		}
		return []int64{n}, steps
	}
	if v := os.Getenv("ROUNDS_MODEL_SEEDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("ROUNDS_MODEL_SEEDS=%q: want a positive number", v)
		}
		first := int64(1)
		if f := os.Getenv("ROUNDS_MODEL_FIRST"); f != "" {
			if first, err = strconv.ParseInt(f, 10, 64); err != nil {
				t.Fatalf("ROUNDS_MODEL_FIRST=%q: want a number", f)
			}
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = first + int64(i)
		}
		return out, steps
	}
	return modelCISeeds, steps
}

// Step kinds. Genuine ones are what real servers and honest peers do; the
// hostile ones are what a lying peer, room or server does.
const (
	stepPeerLive     = "peer-live"       // bob sends 1:1 to alice
	stepOwnSend      = "own-send"        // the phone sends 1:1 to bob
	stepCarbon       = "carbon"          // alice's desk sends to bob: the phone gets carbons
	stepRoomPeer     = "room-peer"       // bob posts in the room
	stepRoomOwn      = "room-own"        // the phone posts in the room
	stepDupReorder   = "dup-reorder"     // carol's client resends each message, newest first, with delay stamps
	stepCut          = "cut"             // the phone's socket is cut, again and again, while both sides send
	stepOutage       = "outage"          // the phone is unreachable past the server's resumption window
	stepRestart      = "restart"         // Prosody restarts while both sides send
	stepOffline      = "offline-catchup" // the phone signs out; traffic; it signs in and pages through the archives
	stepKillSend     = "kill-send"       // the phone's process is SIGKILLed in a burst of sends
	stepKillCatchUp  = "kill-catchup"    // the phone's process is SIGKILLed after its first archive pages
	stepClockJump    = "clock-jump"      // the phone's clock jumps hours forward or back
	stepRecall       = "recall"          // bob recalls a 1:1 and a room message, the phone maybe away
	stepOversized    = "oversized"       // carol sends a message near the server's stanza limit
	stepFutureDelay  = "future-delay"    // carol stamps a message in 2099
	stepBackdated    = "backdated-delay" // carol stamps a message years back
	stepIDReuse      = "id-reuse"        // carol's gateway restarts its id counter (no origin-id)
	stepNickSquat    = "nick-squat"      // while the phone is away, carol posts in the room under alice's nick
	stepDeepStanza   = "deep-stanza"     // carol sends a message nested deeper than the client's limit
	stepSenderDelay  = "sender-delay"    // carol's live message claims to be 30 minutes old
	stepOwnCorrupted = "forged-own"      // carol sends a message claiming to be from alice's other device
)

// stepWeights: how often each kind is drawn. Expensive steps (restarts,
// outages, child processes) are drawn less.
var stepWeights = map[string]int{
	stepPeerLive: 4, stepOwnSend: 4, stepCarbon: 3, stepRoomPeer: 3, stepRoomOwn: 3,
	stepDupReorder: 3, stepCut: 3, stepOutage: 1, stepRestart: 1, stepOffline: 2,
	stepKillSend: 1, stepKillCatchUp: 1, stepClockJump: 2, stepRecall: 2,
	stepOversized: 1, stepFutureDelay: 1, stepBackdated: 1, stepIDReuse: 1, stepNickSquat: 1,
	stepDeepStanza: 1, stepSenderDelay: 1, stepOwnCorrupted: 1,
}

// hostileSteps are the steps that probe the trust holes of issue 11. Each is
// switched on once its fix is on main; a step that is off is never drawn (set
// ROUNDS_MODEL_ENABLE to draw it anyway and watch it fail).
var hostileSteps = map[string]bool{
	stepOversized:    true, // issue 11 item 1: a stanza over the read limit looped catch-up
	stepDeepStanza:   true, // item 1: a live stanza the decoder refuses
	stepFutureDelay:  true, // item 6: sender-chosen delay stamps were trusted
	stepBackdated:    true, // item 6
	stepSenderDelay:  true, // item 6
	stepIDReuse:      true, // item 3: sender ids deduped distinct messages
	stepNickSquat:    true, // item 5: room identity was the nickname
	stepOwnCorrupted: true, // a peer claiming our own account: refused before issue 11
}

func enabledSteps(extra string) []string {
	var out []string
	for k := range stepWeights {
		on, hostile := hostileSteps[k]
		if !hostile || on || slices.Contains(strings.Split(extra, ","), k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// modelStep is one step of a schedule: a kind and its numbers.
type modelStep struct {
	Kind string
	N    int // messages (or, for clock-jump, minutes)
	K    int // cuts, messages before the kill, pages before the kill, or a 0/1 switch
}

func (s modelStep) String() string {
	switch s.Kind {
	case stepClockJump:
		return fmt.Sprintf("%s %+dmin", s.Kind, s.N)
	case stepCut:
		return fmt.Sprintf("%s n=%d cuts=%d", s.Kind, s.N, s.K)
	case stepKillSend:
		return fmt.Sprintf("%s n=%d kill-after=%d", s.Kind, s.N, s.K)
	case stepKillCatchUp:
		return fmt.Sprintf("%s n=%d kill-after-pages=%d", s.Kind, s.N, s.K)
	case stepOffline:
		return fmt.Sprintf("%s n=%d desk-offline-too=%v", s.Kind, s.N, s.K == 1)
	case stepRecall:
		return fmt.Sprintf("%s phone-away=%v", s.Kind, s.K == 1)
	}
	return fmt.Sprintf("%s n=%d", s.Kind, s.N)
}

// drawSchedule is a pure function of its arguments: the same seed always
// gives the same schedule.
func drawSchedule(seed int64, steps int, kinds []string) []modelStep {
	r := rand.New(rand.NewPCG(uint64(seed), 0x526f756e6473))
	total := 0
	for _, k := range kinds {
		total += stepWeights[k]
	}
	out := make([]modelStep, 0, steps)
	for range steps {
		x := r.IntN(total)
		var kind string
		for _, k := range kinds {
			if x -= stepWeights[k]; x < 0 {
				kind = k
				break
			}
		}
		st := modelStep{Kind: kind, N: 1 + r.IntN(5)}
		switch kind {
		case stepCut:
			st.N, st.K = 5+r.IntN(20), 1+r.IntN(4)
		case stepClockJump:
			st.N = (30 + r.IntN(180)) * (1 - 2*r.IntN(2))
		case stepKillSend:
			st.N = 20 + r.IntN(60)
			st.K = 1 + r.IntN(st.N/2)
		case stepKillCatchUp:
			st.N, st.K = 20+r.IntN(20), 1+r.IntN(2)
		case stepOffline:
			st.N, st.K = 3+r.IntN(15), r.IntN(2)
		case stepRecall:
			st.N, st.K = 2, r.IntN(2)
		case stepRestart, stepOutage:
			st.N = 3 + r.IntN(8)
		}
		out = append(out, st)
	}
	return out
}

func formatSchedule(s []modelStep) string {
	var b strings.Builder
	for i, st := range s {
		fmt.Fprintf(&b, "  %2d. %s\n", i, st)
	}
	return b.String()
}
