package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"rounds/sync"
)

// The server check (`rounds admin check`): everything Rounds needs from the
// live server, each as a finding with what to change when it is missing.
// sync.ProbeServer gathers the facts; the words and the judgement are here.

// CheckStatus grades one finding.
type CheckStatus int

const (
	CheckOK   CheckStatus = iota // as Rounds needs it
	CheckWarn                    // works, but worse than it should (or could not be told)
	CheckFail                    // Rounds will not work as documented until it is fixed
)

func (s CheckStatus) String() string {
	return [...]string{"ok", "warn", "FAIL"}[s]
}

// Finding is one line of the check's report.
type Finding struct {
	Status CheckStatus
	Area   string // "tls", "host-meta", "archive", ...
	Says   string // what was found
	Fix    string // what to change ("" when OK)
}

// ServerCheck says which server to check and as whom. The account should be
// an ordinary user made for the check (it is given a probe room, a small
// upload and, on a young account, short messages to itself), not IT's
// publishing account: a non-admin is how the staff see the server.
type ServerCheck struct {
	Domain   string
	Account  string
	Password string
	// URL is the WebSocket endpoint; "" discovers it from the domain.
	URL       string
	TLSConfig *tls.Config
	// PubSubService holds the policy and on-call nodes (default pubsub.<domain>).
	PubSubService string
	// Now is the clock roles are resolved at (default time.Now).
	Now func() time.Time
}

// ErrCheckSignIn wraps a sign-in the check could not make: the rest of the
// server was not checked. errors.Is it with ErrWrongPassword,
// ErrServerUnreachable or ErrBadCertificate to tell why.
var ErrCheckSignIn = errors.New("the check could not sign in")

// ErrCheckOtherDomain: the domain checked is not the check account's. The
// account's password goes only to its own domain's server: an endpoint
// discovered from another domain (a typo, or a look-alike name someone
// registered) could ask for it in the clear (SASL PLAIN inside TLS).
var ErrCheckOtherDomain = errors.New("the check account is not an account of the domain checked")

// CheckServer probes the server and returns the findings in the order an
// admin fixes them: names and certificates, discovery, sign-in, then the
// features. The error is non-nil only when sign-in failed (then the
// findings so far say why).
func CheckServer(ctx context.Context, sc ServerCheck) ([]Finding, error) {
	if sc.Now == nil {
		sc.Now = time.Now
	}
	if _, domain, _ := strings.Cut(sc.Account, "@"); !strings.EqualFold(domain, sc.Domain) {
		return nil, fmt.Errorf("%w: %s is not an account of %s", ErrCheckOtherDomain, sc.Account, sc.Domain)
	}
	if sc.PubSubService == "" {
		sc.PubSubService = "pubsub." + sc.Domain
	}
	var out []Finding
	add := func(st CheckStatus, area, says, fix string) { out = append(out, Finding{st, area, says, fix}) }

	discovered, derr := DiscoverServer(ctx, sc.TLSConfig, sc.Domain)
	hostMeta := "https://" + sc.Domain + "/.well-known/host-meta"
	switch {
	case derr != nil && sc.URL == "":
		add(CheckFail, "host-meta", fmt.Sprintf("no WebSocket endpoint found at %s: %v", hostMeta, derr),
			"serve the host-meta file from `rounds-cli admin server-config --write DIR` at "+hostMeta+" (docs/ADMIN.md, step 4)")
		return out, fmt.Errorf("%w: %w", ErrCheckSignIn, ErrNoServerFound)
	case derr != nil:
		add(CheckWarn, "host-meta", fmt.Sprintf("no WebSocket endpoint found at %s (%v); staff would have to type %s", hostMeta, derr, sc.URL),
			"serve the host-meta file from `rounds-cli admin server-config --write DIR` at "+hostMeta)
	case sc.URL != "" && discovered != sc.URL:
		add(CheckWarn, "host-meta", fmt.Sprintf("%s names %s, not %s", hostMeta, discovered, sc.URL), "make host-meta name the endpoint staff should use")
	default:
		add(CheckOK, "host-meta", fmt.Sprintf("%s names %s", hostMeta, discovered), "")
	}
	if sc.URL == "" {
		sc.URL = discovered
	}
	if err := CheckServerURL(sc.URL); err != nil {
		add(CheckFail, "websocket", fmt.Sprintf("%s: %v", sc.URL, err), "publish a wss:// endpoint")
		return out, fmt.Errorf("%w: %w", ErrCheckSignIn, ErrInsecureURL)
	}
	f := sync.ProbeServer(ctx, sync.Server{URL: sc.URL, JID: sc.Account, Password: sc.Password, TLSConfig: sc.TLSConfig}, sc.PubSubService)

	host := sc.URL
	if u, err := url.Parse(sc.URL); err == nil {
		host = u.Hostname()
	}
	switch {
	case f.TLSErr != nil:
		add(CheckFail, "tls", fmt.Sprintf("%s: %v", host, f.TLSErr),
			"install a certificate for "+host+" from a CA the devices trust; with Prosody terminating TLS, https_ssl must name it (docs/ADMIN.md, Certificates)")
	case strings.HasPrefix(sc.URL, "wss://"):
		left := f.CertExpires.Sub(sc.Now())
		st, fix := CheckOK, ""
		if left < 21*24*time.Hour {
			st, fix = CheckWarn, "renew the certificate for "+host
		}
		add(st, "tls", fmt.Sprintf("%s: certificate valid for %s until %s", host, strings.Join(f.CertNames, ", "), f.CertExpires.UTC().Format("2006-01-02")), fix)
	}
	switch skew := f.ClockSkew.Round(time.Second); {
	case !f.HaveDate:
		add(CheckWarn, "clock", "the server told its time neither in an HTTP Date header nor over XMPP (XEP-0202); its clock could not be compared",
			"load time (Prosody) / mod_time (ejabberd)")
	case skew > time.Minute || skew < -time.Minute:
		add(CheckFail, "clock", fmt.Sprintf("the server's clock is %v off this machine's", skew),
			"run NTP on the server (and on this machine): receipts, shifts and archive times depend on it")
	default:
		add(CheckOK, "clock", fmt.Sprintf("the server's clock is within %v of this machine's", max(skew, -skew)+time.Second), "")
	}

	if f.SignInErr != nil {
		why := classify(f.SignInErr)
		fix := "check the account and its password (prosodyctl passwd / ejabberdctl change_password)"
		if !errors.Is(why, ErrWrongPassword) {
			fix = "check that the WebSocket endpoint answers (websocket module; the proxy forwards Upgrade)"
		}
		add(CheckFail, "sign-in", fmt.Sprintf("%s at %s: %v", sc.Account, sc.URL, f.SignInErr), fix)
		return out, fmt.Errorf("%w: %w", ErrCheckSignIn, why)
	}
	switch {
	case strings.HasPrefix(f.Mechanism, "SCRAM-SHA-256") || strings.HasPrefix(f.Mechanism, "SCRAM-SHA-512"):
		add(CheckOK, "sign-in", fmt.Sprintf("signed in over %s with %s", sc.URL, f.Mechanism), "")
	default:
		add(CheckWarn, "sign-in", fmt.Sprintf("signed in over %s with %s", sc.URL, f.Mechanism),
			`store SCRAM-SHA-256 (Prosody password_hash = "SHA-256"; ejabberd auth_scram_hash: sha256) and reset passwords so accounts are rehashed`)
	}
	if f.Registration {
		add(CheckFail, "registration", "the server offers in-band registration (XEP-0077): anyone who reaches it can make an account, read the rota and write to staff",
			"accounts are made by IT (docs/ADMIN.md, step 6): Prosody allow_registration = false; ejabberd: remove mod_register")
	} else {
		add(CheckOK, "registration", "no in-band registration: only IT makes accounts", "")
	}
	switch {
	case !f.SMEnabled:
		add(CheckFail, "stream management", "XEP-0198 is not offered: every network blip is a fresh sign-in and unacknowledged messages are resent", "enable smacks (Prosody) / mod_stream_mgmt (ejabberd)")
	case !f.SMResumable:
		add(CheckFail, "stream management", "XEP-0198 is on but sessions cannot be resumed", "allow resumption: smacks_hibernation_time (Prosody) / resume_timeout (ejabberd), 60–300 s")
	default:
		add(CheckOK, "stream management", "XEP-0198 with resumption", "")
	}
	if f.CarbonsErr != nil {
		add(CheckFail, "carbons", fmt.Sprintf("XEP-0280 refused: %v", f.CarbonsErr), "enable carbons (Prosody) / mod_carboncopy (ejabberd)")
	} else {
		add(CheckOK, "carbons", "XEP-0280: a user's devices see each other's messages", "")
	}
	if f.CSI {
		add(CheckOK, "csi", "XEP-0352 client state indication", "")
	} else {
		add(CheckWarn, "csi", "XEP-0352 is not offered: phones in a pocket get every presence", "enable csi_simple (Prosody) / mod_client_state (ejabberd)")
	}
	switch {
	case !f.MAM:
		add(CheckFail, "archive", "the account's archive (XEP-0313) is not offered: a device that was off misses messages", "enable mam (Prosody) / mod_mam (ejabberd)")
	case f.ArchiveErr != nil:
		add(CheckFail, "archive", fmt.Sprintf("archive query failed: %v", f.ArchiveErr), "check mam's storage (Prosody: storage = \"sql\")")
	case f.ArchiveCapped:
		add(CheckFail, "archive", fmt.Sprintf("the server returns at most %d messages per archive page; Rounds asks for 250 (catch-up takes %d× the round trips)", f.ArchivePage, (250+f.ArchivePage-1)/max(f.ArchivePage, 1)),
			"Prosody: max_archive_query_results = 250")
	case f.ArchivePage >= 250:
		says := "archive pages of 250 messages"
		if f.ArchiveFilled > 0 {
			says += fmt.Sprintf(" (the check sent %s %d short messages to tell)", sc.Account, f.ArchiveFilled)
		}
		add(CheckOK, "archive", says, "")
	default:
		add(CheckWarn, "archive", fmt.Sprintf("the archive page size could not be told (%d messages came back)", f.ArchivePage), "")
	}
	out = append(out, uploadFinding(f))
	out = append(out, roomFindings(f)...)
	out = append(out, nodeFindings(f, sc.Account, sc.Now())...)
	return out, nil
}

func uploadHost(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	return p.Scheme + "://" + p.Host + "/"
}

// uploadFinding judges the upload round trip, and says what became of the
// test file: XEP-0363 has no delete, so unless the server took an HTTP DELETE
// it stays until the upload service expires it.
func uploadFinding(f *sync.ServerFacts) Finding {
	switch {
	case f.UploadErr != nil && f.UploadService == "":
		return Finding{CheckFail, "upload", fmt.Sprintf("no upload service (XEP-0363): %v", f.UploadErr), "add the http_file_share component (Prosody) / mod_http_upload (ejabberd)"}
	case f.UploadErr != nil:
		return Finding{CheckFail, "upload", fmt.Sprintf("%s: %v", f.UploadService, f.UploadErr),
			"upload URLs must use a name devices resolve and the certificate covers: http_external_url on the upload component (Prosody) / put_url, get_url (ejabberd)"}
	case f.UploadPut/100 != 2 || f.UploadGet != 200 || !f.UploadSame:
		return Finding{CheckFail, "upload", fmt.Sprintf("%s: a test file went up with HTTP %d and came back with HTTP %d (same content: %v) via %s", f.UploadService, f.UploadPut, f.UploadGet, f.UploadSame, uploadHost(f.UploadPutURL)),
			"the upload URL's host must reach the upload service: http_host and http_external_url on the component (Prosody); the proxy must forward it"}
	default:
		limit := "no size limit announced"
		if f.UploadMax > 0 {
			limit = fmt.Sprintf("files up to %d MiB", f.UploadMax>>20)
		}
		left := "deleted again"
		if !f.UploadDeleted {
			left = fmt.Sprintf("it (%d bytes, no patient data) stays on the upload service until its expiry: the server refuses deletes", f.UploadSize)
		}
		return Finding{CheckOK, "upload", fmt.Sprintf("%s: %s; a test file went up and came back through %s, %s", f.UploadService, limit, uploadHost(f.UploadPutURL), left), ""}
	}
}

// roomFindings judges the defaults a room created by another client gets.
func roomFindings(f *sync.ServerFacts) []Finding {
	if f.RoomErr != nil {
		return []Finding{{CheckWarn, "rooms", fmt.Sprintf("room defaults not checked: %v", f.RoomErr),
			"let the check account create rooms, or check muc_room_default_* (Prosody) / default_room_options (ejabberd) by hand"}}
	}
	d := f.RoomDefaults
	on := func(k string) bool { return d[k] == "1" || d[k] == "true" }
	var unsafe []string
	if !on("muc#roomconfig_membersonly") {
		unsafe = append(unsafe, "open to anyone on the server (muc_room_default_members_only = true / members_only: true)")
	}
	if d["muc#roomconfig_whois"] != "anyone" {
		unsafe = append(unsafe, "anonymous (muc_room_default_public_jids = true / anonymous: false)")
	}
	if !on("muc#roomconfig_persistentroom") {
		unsafe = append(unsafe, "not persistent (muc_room_default_persistent = true / persistent: true)")
	}
	if on("muc#roomconfig_publicroom") {
		unsafe = append(unsafe, "listed in the room directory (muc_room_default_public = false / public: false)")
	}
	if !on("muc#roomconfig_enablearchiving") && !on("mam") && !on("muc#roomconfig_mam") {
		unsafe = append(unsafe, "not archived (muc_log_by_default = true / mam: true)")
	}
	if len(unsafe) > 0 {
		return []Finding{{CheckFail, "rooms", "a room created with the server's defaults on " + f.MUCService + " is " + strings.Join(unsafe, "; "),
			"set the safe defaults named above (docs/ADMIN.md, Rooms)"}}
	}
	return []Finding{{CheckOK, "rooms", f.MUCService + ": new rooms are members-only, non-anonymous, persistent, hidden and archived", ""}}
}

// nodeFindings reads the policy and on-call nodes as devices do, and tells
// whether an ordinary user may create nodes next to them.
func nodeFindings(f *sync.ServerFacts, account string, now time.Time) []Finding {
	var out []Finding
	switch refused := f.CreateNodeRefused; {
	case f.CreatedNode:
		out = append(out, Finding{CheckFail, "pubsub", fmt.Sprintf("%s could create a node on %s: any user could have created the policy or on-call node before IT, and own it", account, f.PubSubService),
			"Prosody: only the component's admins (admins = { ... }), no autocreate_on_publish; ejabberd: access_createnode limited to IT (or run the check as an ordinary user, not IT)"})
	case refused == "forbidden" || refused == "not-allowed" || refused == "not-authorized":
		out = append(out, Finding{CheckOK, "pubsub", fmt.Sprintf("ordinary users may not create nodes on %s (%s)", f.PubSubService, refused), ""})
	default:
		why := refused
		if f.CreateNodeErr != nil {
			why = f.CreateNodeErr.Error()
		}
		out = append(out, Finding{CheckWarn, "pubsub", fmt.Sprintf("who may create nodes on %s could not be told: %s", f.PubSubService, why), ""})
	}
	if f.LeftNode != "" {
		out = append(out, Finding{CheckWarn, "pubsub", fmt.Sprintf("the check's scratch node %s could not be deleted from %s: %v", f.LeftNode, f.PubSubService, f.DeleteNodeErr),
			"delete that node (it holds nothing): prosodyctl shell / ejabberdctl delete_node, or from an XMPP client as " + account})
	}
	if err := f.NodeErrs[PolicyNode]; err != nil {
		out = append(out, Finding{CheckFail, "policy", fmt.Sprintf("%s on %s: %v", PolicyNode, f.PubSubService, err),
			"publish it: rounds-cli admin publish-policy --account IT-ADMIN ... policy.xml"})
	} else if e, ok := f.Nodes[PolicyNode].(sync.PolicyUpdated); ok {
		p := orgPolicyFromWire(e.Policy)
		out = append(out, Finding{CheckOK, "policy", fmt.Sprintf("policy version %d published on %s", p.Version, f.PubSubService), ""})
	}
	if err := f.NodeErrs[OnCallNode]; err != nil {
		out = append(out, Finding{CheckFail, "on-call", fmt.Sprintf("%s on %s: %v", OnCallNode, f.PubSubService, err),
			"publish the rota: rounds-cli admin publish-oncall --account IT-ADMIN ... rota.csv"})
		return out
	}
	e, ok := f.Nodes[OnCallNode].(sync.OnCallUpdated)
	if !ok {
		return out
	}
	shifts := shiftsFromWire(e.Shifts)
	roles := map[string]bool{}
	for _, s := range shifts {
		roles[s.Role] = true
	}
	var held, empty []string
	for r := range roles {
		if who, _, err := RoleHolderAt(shifts, r, now); err == nil {
			held = append(held, r+": "+who)
		} else {
			empty = append(empty, r)
		}
	}
	sort.Strings(held)
	sort.Strings(empty)
	if len(empty) > 0 {
		out = append(out, Finding{CheckFail, "on-call", "nobody holds these roles now, so pages to them are refused: " + strings.Join(empty, ", "),
			"publish a rota that covers now (rounds-cli admin publish-oncall)"})
	}
	if len(held) > 0 {
		out = append(out, Finding{CheckOK, "on-call", strings.Join(held, "; "), ""})
	}
	return out
}
