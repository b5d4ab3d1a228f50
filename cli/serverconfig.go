package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"rounds/app"
)

// deployment is the one description of a Rounds server that both server
// configurations are generated from (`rounds admin server-config`). The tests
// start the real Prosody and ejabberd from exactly this output, so the
// configuration docs/ADMIN.md tells an admin to install is the tested one.
type deployment struct {
	Server string // "prosody" or "ejabberd"
	Domain string // the XMPP domain: the part after @ in every address
	// PublicHost is the name clients reach over HTTPS: the WebSocket endpoint
	// and, unless UploadHost says otherwise, upload URLs. It needs DNS and a
	// certificate (on the proxy, when BehindProxy).
	PublicHost string
	UploadHost string
	// PublicPort is the port in the URLs clients are given (443 behind a
	// proxy; HTTPSPort when the XMPP server terminates TLS itself).
	PublicPort int
	// BehindProxy: a reverse proxy terminates TLS and forwards plain HTTP to
	// the server on HTTPPort (loopback by default).
	BehindProxy bool
	// ProxyAddrs are the addresses (or CIDR ranges) the reverse proxy
	// connects from, as the XMPP server sees them: only these are believed
	// when they say the client came over HTTPS (X-Forwarded-Proto) and from
	// which address (X-Forwarded-For). Loopback is always among them.
	ProxyAddrs []string
	// ProxyListen is the address nginx listens on ("" for every interface);
	// ProxyCertDir holds the proxy's NAME.crt and NAME.key.
	ProxyListen, ProxyCertDir string
	Admin                     string // the IT account that owns the policy and on-call nodes
	// ArchivePage is the largest archive page the server hands out; the
	// engine asks for 250 (a smaller cap costs a round trip per 50 messages).
	ArchivePage   int
	RetentionDays int
	UploadLimitMB int

	Listen                       string // interfaces for c2s and HTTPS
	HTTPListen                   string // interface for plain HTTP (the proxy's upstream)
	HTTPPort, HTTPSPort, C2SPort int
	DataDir, CertDir, LogDir     string
	RunDir, WWWDir               string
	RunAsRoot                    bool
}

// minArchivePage is the smallest archive page size the generator accepts:
// the sync engine pages 250 at a time.
const minArchivePage = 250

// WebSocketURL is the endpoint clients are told (host-meta, --server).
func (d deployment) WebSocketURL() string { return d.baseURL(d.PublicHost) + d.wsPath() }

// UploadURL is the base of upload slot URLs.
func (d deployment) UploadURL() string { return d.baseURL(d.UploadHost) + "/" }

func (d deployment) baseURL(host string) string {
	if d.PublicPort == 443 {
		return "https://" + host
	}
	return "https://" + host + ":" + strconv.Itoa(d.PublicPort)
}

func (d deployment) wsPath() string {
	if d.Server == "ejabberd" {
		return "/ws"
	}
	return "/xmpp-websocket"
}

// UploadLimitBytes is the attachment limit in bytes (YAML has no arithmetic).
func (d deployment) UploadLimitBytes() int { return d.UploadLimitMB << 20 }

// WSS is WebSocketURL with the wss scheme.
func (d deployment) WSS() string { return "wss" + strings.TrimPrefix(d.WebSocketURL(), "https") }

// CertNames are the names a certificate must cover, each with why.
func (d deployment) CertNames() []string {
	names := []string{d.Domain}
	for _, n := range []string{d.PublicHost, d.UploadHost} {
		if !contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// dnsName says whether s is a host name the configurations may name: LDH
// labels of at most 63 characters, dot-separated, lowercase. Anything else
// (a quote, a semicolon, a newline) could end a Lua or YAML string or an
// nginx directive and add settings of its own.
func dnsName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// loopback says whether a listen address is this machine only.
func loopback(addr string) bool {
	ip := net.ParseIP(addr)
	return addr == "localhost" || (ip != nil && ip.IsLoopback())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TrustedProxies is the Lua list of addresses Prosody believes forwarded
// headers from.
func (d deployment) TrustedProxies() string {
	q := make([]string, len(d.ProxyAddrs))
	for i, a := range d.ProxyAddrs {
		q[i] = strconv.Quote(a)
	}
	return "{ " + strings.Join(q, ", ") + " }"
}

// Upstream is where the reverse proxy forwards to: the server's plain HTTP
// listener.
func (d deployment) Upstream() string {
	return net.JoinHostPort(d.HTTPListen, strconv.Itoa(d.HTTPPort))
}

// ProxyHosts are the names the proxy terminates TLS for, one server block
// each (each with its own certificate).
func (d deployment) ProxyHosts() []string {
	if d.UploadHost == d.PublicHost {
		return []string{d.PublicHost}
	}
	return []string{d.PublicHost, d.UploadHost}
}

// ProxyListenAddr is nginx's listen argument.
func (d deployment) ProxyListenAddr() string {
	if d.ProxyListen == "" {
		return strconv.Itoa(d.PublicPort)
	}
	return net.JoinHostPort(d.ProxyListen, strconv.Itoa(d.PublicPort))
}

// ProxyBodyMB is the proxy's request body limit: the attachment limit plus
// room for the encryption's few bytes and the HTTP framing.
func (d deployment) ProxyBodyMB() int { return d.UploadLimitMB + 5 }

// HostMeta is the XEP-0156 document clients fetch from
// https://<domain>/.well-known/host-meta.
func (d deployment) HostMeta() string {
	return `<?xml version='1.0' encoding='utf-8'?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="urn:xmpp:alt-connections:websocket" href="` + d.WSS() + `"/>
</XRD>
`
}

func (d *deployment) flags(fs *flag.FlagSet) {
	fs.StringVar(&d.Server, "server", "prosody", "prosody (0.12) or ejabberd (23.01)")
	fs.StringVar(&d.Domain, "domain", "", "the XMPP domain, e.g. hospital.org (required)")
	fs.StringVar(&d.PublicHost, "public-host", "", "the name clients reach over HTTPS for the WebSocket (default: the domain)")
	fs.StringVar(&d.UploadHost, "upload-host", "", "the name in upload URLs (default: the public host)")
	fs.IntVar(&d.PublicPort, "public-port", 0, "the port in the URLs clients get (default 443 behind a proxy, else --https-port)")
	fs.BoolVar(&d.BehindProxy, "behind-proxy", false, "a reverse proxy terminates TLS and forwards plain HTTP to --http-listen:--http-port")
	fs.Func("proxy-address", "with --behind-proxy on another machine: the proxy's address or CIDR range as the XMPP server sees it (comma-separated; loopback is always trusted)", func(v string) error {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				d.ProxyAddrs = append(d.ProxyAddrs, a)
			}
		}
		return nil
	})
	fs.StringVar(&d.ProxyListen, "proxy-listen", "", "with --behind-proxy: the address nginx listens on (default: every interface)")
	fs.StringVar(&d.ProxyCertDir, "proxy-cert-dir", "/etc/ssl/rounds", "with --behind-proxy: where nginx finds NAME.crt and NAME.key for the public names")
	fs.StringVar(&d.Admin, "admin", "", "the IT account that publishes the policy and on-call schedule (default it.admin@DOMAIN)")
	fs.IntVar(&d.ArchivePage, "archive-page", minArchivePage, "largest archive (MAM) page the server returns (at least 250)")
	fs.IntVar(&d.RetentionDays, "retention-days", 30, "days the server keeps archives and uploads (match the policy's <retention days>)")
	fs.IntVar(&d.UploadLimitMB, "upload-limit-mb", 20, "largest attachment in MiB")
	fs.StringVar(&d.Listen, "listen", "*", "interfaces for client connections (c2s and HTTPS)")
	fs.StringVar(&d.HTTPListen, "http-listen", "127.0.0.1", "interface for plain HTTP (the reverse proxy's upstream)")
	fs.IntVar(&d.HTTPPort, "http-port", 5280, "plain HTTP port (WebSocket and uploads behind a proxy)")
	fs.IntVar(&d.HTTPSPort, "https-port", 5443, "HTTPS port when the server terminates TLS")
	fs.IntVar(&d.C2SPort, "c2s-port", 5222, "XMPP client port (STARTTLS), for other XMPP clients")
	fs.StringVar(&d.DataDir, "data-dir", "", "where the server keeps its data (default /var/lib/prosody or /var/lib/ejabberd)")
	fs.StringVar(&d.CertDir, "cert-dir", "", "where certificates are (default /etc/prosody/certs or /etc/ejabberd)")
	fs.StringVar(&d.LogDir, "log-dir", "", "where logs go (default /var/log/prosody or /var/log/ejabberd)")
	fs.StringVar(&d.RunDir, "run-dir", "", "where the pid file goes (Prosody; default /run/prosody)")
	fs.StringVar(&d.WWWDir, "www-dir", "", "the folder served as /.well-known/ (host-meta; Prosody, default /etc/prosody/well-known)")
	fs.BoolVar(&d.RunAsRoot, "run-as-root", false, "let Prosody run as root (containers and tests only)")
}

// check fills defaults and refuses what cannot work.
func (d *deployment) check() error {
	if d.Server != "prosody" && d.Server != "ejabberd" {
		return fmt.Errorf("--server %q: want prosody or ejabberd", d.Server)
	}
	d.Domain = strings.ToLower(d.Domain)
	if !dnsName(d.Domain) {
		return fmt.Errorf("--domain %q: want a domain such as hospital.org", d.Domain)
	}
	d.PublicHost, d.UploadHost = strings.ToLower(d.PublicHost), strings.ToLower(d.UploadHost)
	if d.PublicHost == "" {
		d.PublicHost = d.Domain
	}
	if d.UploadHost == "" {
		d.UploadHost = d.PublicHost
	}
	for _, n := range []string{d.PublicHost, d.UploadHost} {
		if !dnsName(n) {
			return fmt.Errorf("host name %q: want a DNS name such as chat.hospital.org", n)
		}
	}
	if d.Listen != "*" && net.ParseIP(d.Listen) == nil {
		return fmt.Errorf("--listen %q: want * (every interface) or one IP address", d.Listen)
	}
	if d.HTTPListen != "localhost" && net.ParseIP(d.HTTPListen) == nil {
		return fmt.Errorf("--http-listen %q: want an IP address", d.HTTPListen)
	}
	if d.PublicPort == 0 {
		d.PublicPort = d.HTTPSPort
		if d.BehindProxy {
			d.PublicPort = 443
		}
	}
	if err := d.checkProxy(); err != nil {
		return err
	}
	if d.Admin == "" {
		d.Admin = "it.admin@" + d.Domain
	}
	admin, err := app.CheckPerson(d.Admin)
	if err != nil {
		return fmt.Errorf("--admin %q: %v", d.Admin, err)
	}
	if local, domain, _ := strings.Cut(admin, "@"); domain != d.Domain || strings.ContainsFunc(local, func(r rune) bool {
		// RFC 7622 forbids these in a localpart; here they would also end
		// the quoted string the address is written into.
		return r <= ' ' || r == 0x7f || strings.ContainsRune("\"&'/:<>@\\", r)
	}) {
		return fmt.Errorf("--admin %q: want an account of %s, such as it.admin@%s", d.Admin, d.Domain, d.Domain)
	}
	d.Admin = admin
	if d.ArchivePage < minArchivePage {
		return fmt.Errorf("--archive-page %d: Rounds pages the archive %d at a time; give at least that", d.ArchivePage, minArchivePage)
	}
	if d.RetentionDays < 1 || d.UploadLimitMB < 1 {
		return fmt.Errorf("--retention-days and --upload-limit-mb must be at least 1")
	}
	base := map[string]string{"prosody": "prosody", "ejabberd": "ejabberd"}[d.Server]
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&d.DataDir, "/var/lib/"+base)
	def(&d.LogDir, "/var/log/"+base)
	def(&d.RunDir, "/run/"+base)
	if d.Server == "prosody" {
		def(&d.CertDir, "/etc/prosody/certs")
		def(&d.WWWDir, "/etc/prosody/well-known")
	} else {
		def(&d.CertDir, "/etc/ejabberd")
	}
	for _, p := range []string{d.DataDir, d.CertDir, d.LogDir, d.RunDir, d.WWWDir} {
		if p != "" && (!filepath.IsAbs(p) || strings.ContainsAny(p, "\"'\\\n")) {
			return fmt.Errorf("path %q: want an absolute path without quotes", p)
		}
	}
	return nil
}

// checkProxy validates the reverse proxy's side of the description. Prosody
// believes a request's forwarded headers (the client's address, and that it
// came over HTTPS, which is what lets it sign in) only from ProxyAddrs, so
// each must be an exact address or range: a hostname or a typo would either
// be ignored by Prosody or trust more than the proxy.
func (d *deployment) checkProxy() error {
	if !d.BehindProxy {
		if len(d.ProxyAddrs) > 0 || d.ProxyListen != "" {
			return fmt.Errorf("--proxy-address and --proxy-listen describe the reverse proxy: give --behind-proxy too")
		}
		// Without a proxy the plain HTTP listener is for this machine only:
		// on ejabberd it carries a WebSocket that signs in without TLS.
		if !loopback(d.HTTPListen) {
			return fmt.Errorf("--http-listen %s: without --behind-proxy, plain HTTP answers this machine only (devices use HTTPS on --https-port); give a loopback address", d.HTTPListen)
		}
		return nil
	}
	remote := false
	for _, a := range d.ProxyAddrs {
		if ip, n, err := net.ParseCIDR(a); err == nil {
			if ones, _ := n.Mask.Size(); ones == 0 {
				return fmt.Errorf("--proxy-address %s: trusts every address; give the proxy's address or its subnet", a)
			}
			remote = remote || !ip.IsLoopback()
			continue
		}
		ip := net.ParseIP(a)
		if ip == nil || ip.IsUnspecified() {
			return fmt.Errorf("--proxy-address %q: want the proxy's IP address or a CIDR range such as 10.20.0.0/24", a)
		}
		remote = remote || !ip.IsLoopback()
	}
	trusted := []string{"127.0.0.1", "::1"}
	for _, a := range d.ProxyAddrs {
		if !contains(trusted, a) {
			trusted = append(trusted, a)
		}
	}
	d.ProxyAddrs = trusted
	listen := net.ParseIP(d.HTTPListen)
	if d.HTTPListen != "localhost" && (listen == nil || listen.IsUnspecified()) {
		return fmt.Errorf("--http-listen %q: behind a proxy, give the one address the proxy connects to", d.HTTPListen)
	}
	if remote && loopback(d.HTTPListen) {
		return fmt.Errorf("--proxy-address names a proxy on another machine, but --http-listen %s answers only this one: give this server's address on the proxy's network", d.HTTPListen)
	}
	if !remote && !loopback(d.HTTPListen) {
		return fmt.Errorf("--http-listen %s: a proxy on another machine connects from its own address, which the server must trust: give it with --proxy-address", d.HTTPListen)
	}
	if d.ProxyListen != "" && net.ParseIP(d.ProxyListen) == nil {
		return fmt.Errorf("--proxy-listen %q: want an IP address", d.ProxyListen)
	}
	if !filepath.IsAbs(d.ProxyCertDir) || strings.ContainsAny(d.ProxyCertDir, "\"' ;{}\n") {
		return fmt.Errorf("--proxy-cert-dir %q: want an absolute path without quotes, spaces or semicolons", d.ProxyCertDir)
	}
	return nil
}

// render writes the server's configuration.
func (d deployment) render(w io.Writer) error {
	t := prosodyTemplate
	if d.Server == "ejabberd" {
		t = ejabberdTemplate
	}
	return t.Execute(w, d)
}

// CommandLine is how this configuration is generated again.
func (d deployment) CommandLine() string {
	s := "rounds-cli admin server-config --server " + d.Server + " --domain " + d.Domain
	if d.PublicHost != d.Domain {
		s += " --public-host " + d.PublicHost
	}
	if d.UploadHost != d.PublicHost {
		s += " --upload-host " + d.UploadHost
	}
	if d.RetentionDays != 30 {
		s += " --retention-days " + strconv.Itoa(d.RetentionDays)
	}
	if d.BehindProxy {
		s += " --behind-proxy"
		if len(d.ProxyAddrs) > 2 {
			s += " --proxy-address " + strings.Join(d.ProxyAddrs[2:], ",")
		}
		if d.HTTPListen != "127.0.0.1" {
			s += " --http-listen " + d.HTTPListen
		}
	}
	return s
}

// ProxyCerts lists the proxy's certificate files.
func (d deployment) ProxyCerts() string {
	var files []string
	for _, h := range d.ProxyHosts() {
		files = append(files, d.ProxyCertDir+"/"+h+".crt and .key")
	}
	return strings.Join(files, "; ")
}

var funcs = template.FuncMap{"join": strings.Join}

var prosodyTemplate = template.Must(template.New("prosody").Funcs(funcs).Parse(`-- Prosody 0.12 configuration for Rounds at {{.Domain}}.
-- Generated by: {{.CommandLine}}
-- Install as /etc/prosody/prosody.cfg.lua, then: prosodyctl check config && systemctl restart prosody
-- docs/ADMIN.md explains every choice; regenerate rather than edit where you can.
--
-- Names that need DNS and a certificate{{if .BehindProxy}} (the proxy's certificate for the HTTPS names){{end}}:
--   {{.Domain}}      the XMPP domain: client connections (c2s), and host-meta at https://{{.Domain}}/.well-known/host-meta
--   {{.PublicHost}}      WebSocket: {{.WSS}}{{if ne .UploadHost .PublicHost}}
--   {{.UploadHost}}      uploads: {{.UploadURL}}{{end}}
-- Components (conference.{{.Domain}}, pubsub.{{.Domain}}, upload.{{.Domain}}) are addresses
-- inside the server: they need no DNS and no certificate as long as federation (s2s) is off.
{{if .RunAsRoot}}
run_as_root = true  -- containers and tests only
{{end}}
pidfile   = "{{.RunDir}}/prosody.pid"
data_path = "{{.DataDir}}"
log = {
	info  = "{{.LogDir}}/prosody.log";
	error = "{{.LogDir}}/prosody.err";
}
certificates = "{{.CertDir}}"

-- Small stanzas out at once: Nagle's algorithm with delayed ACKs costs up to 40 ms a message.
network_settings = { nagle = false }

interfaces      = { "{{.Listen}}" }
c2s_ports       = { {{.C2SPort}} }
s2s_ports       = { }            -- no federation: a ward's messages stay on this server
component_ports = { }
http_ports      = { {{.HTTPPort}} }
http_interfaces = { "{{.HTTPListen}}" }
{{- if .BehindProxy}}
https_ports     = { }            -- the reverse proxy terminates TLS for {{.PublicHost}}
-- The proxy forwards plain HTTP from these addresses. Only from them does
-- Prosody believe X-Forwarded-For (the device's address) and X-Forwarded-Proto:
-- https (the device came over TLS, so it may sign in); a plain connection
-- from anywhere else is not secure and is refused sign-in.
trusted_proxies = {{.TrustedProxies}}
{{- else}}
https_ports      = { {{.HTTPSPort}} }
https_interfaces = { "{{.Listen}}" }
-- HTTPS answers the names given as http_host below ({{.PublicHost}}{{if ne .UploadHost .PublicHost}}, {{.UploadHost}}{{end}}), each with
-- its certificate from {{.CertDir}}/NAME.crt; a name without a host of its own is refused
-- ("tls: unrecognized name").
{{- if eq .UploadHost .PublicHost}} This one is for clients that name none.
https_ssl = {
	certificate = "{{.CertDir}}/{{.PublicHost}}.crt";
	key         = "{{.CertDir}}/{{.PublicHost}}.key";
}
{{- else}} No https_ssl here: a host's https_ssl wins over the
-- certificate of its http_host, so one naming {{.PublicHost}}'s would be sent for {{.UploadHost}} too
-- (and Prosody takes https_ssl only here, in the global section). Clients that name no host get {{.Domain}}'s.
{{- end}}
{{- end}}
-- The {{.Domain}} host's WebSocket and host-meta are served as {{.PublicHost}}
-- (http_host under VirtualHost), and so is any request under another name.
http_default_host = "{{.PublicHost}}"

-- Client connections (STARTTLS on {{.C2SPort}}) use the domain's certificate.
ssl = {
	certificate = "{{.CertDir}}/{{.Domain}}.crt";
	key         = "{{.CertDir}}/{{.Domain}}.key";
}
c2s_require_encryption = true

-- SCRAM-SHA-256. Set before the first account is created: existing accounts
-- keep the hash they were created with until their password is changed.
authentication = "internal_hashed"
password_hash  = "SHA-256"
allow_registration = false    -- accounts are created by IT (prosodyctl, or the directory: docs/ADMIN.md)

-- SQL storage: flat files re-read a whole archive for every page (Debian: apt install lua-dbi-sqlite3).
storage = "sql"
sql = { driver = "SQLite3", database = "prosody.sqlite" }

modules_enabled = {
	"roster"; "saslauth"; "tls"; "disco"; "posix"; "ping"; "time"; "uptime"; "version";
	"private"; "blocklist"; "vcard4"; "vcard_legacy";
	"carbons";      -- XEP-0280: every device of a user sees what the others sent
	"mam";          -- XEP-0313: catch-up after a night offline
	"smacks";       -- XEP-0198: stream management with resumption
	"csi_simple";   -- XEP-0352: quiet phones in the pocket
	"pep";          -- XEP-0163: read state across devices (XEP-0490)
	"websocket";    -- RFC 7395: how Rounds connects
	"http_files";   -- serves {{.WWWDir}} as /.well-known/ (host-meta)
	"admin_shell";  -- prosodyctl shell: room memberships (docs/ADMIN.md, step 8)
}
modules_disabled = { "s2s" }

-- host-meta (XEP-0156): staff type only name@{{.Domain}}. Put the file
-- "host-meta" (rounds-cli admin server-config ... --write DIR writes it) into
-- {{.WWWDir}}/. If https://{{.Domain}}/ is the hospital's web site, publish the
-- same file there instead (it must be served from the domain's own name).
http_paths     = { files = "/.well-known" }
http_files_dir = "{{.WWWDir}}"

-- Archive (MAM): the records policy, and the page size the sync engine asks for.
default_archive_policy    = true
archive_expires_after     = "{{.RetentionDays}}d"
max_archive_query_results = {{.ArchivePage}}

smacks_hibernation_time = 300   -- a lift ride or a Wi-Fi handover resumes without a new sign-in
c2s_stanza_size_limit   = 262144

VirtualHost "{{.Domain}}"
	http_host = "{{.PublicHost}}"

-- Rooms: nobody creates a room with the server's defaults by accident, and the
-- defaults are the safe ones (members-only, non-anonymous, persistent, hidden, archived).
Component "conference.{{.Domain}}" "muc"
	modules_enabled = { "muc_mam" }
	restrict_room_creation = "local"
	muc_room_default_public = false
	muc_room_default_members_only = true
	muc_room_default_persistent = true
	muc_room_default_public_jids = true     -- non-anonymous: occupants see real addresses
	muc_room_default_allow_member_invites = false
	muc_log_by_default = true
	muc_log_all_rooms = false
	muc_log_expires_after = "{{.RetentionDays}}d"

-- The Rounds org policy (urn:rounds:policy:0) and on-call (urn:rounds:oncall:0)
-- nodes: only the admins below may create them and publish; every user may
-- read and subscribe (access model open). Never set autocreate_on_publish.
Component "pubsub.{{.Domain}}" "pubsub"
	admins = { "{{.Admin}}" }

-- Attachments (XEP-0363). Files are encrypted on the device before upload.
Component "upload.{{.Domain}}" "http_file_share"
	http_host = "{{.UploadHost}}"
	http_external_url = "{{.UploadURL}}"
	http_file_share_size_limit = {{.UploadLimitMB}}*1024*1024
	http_file_share_daily_quota = 100*{{.UploadLimitMB}}*1024*1024
	http_file_share_expires_after = {{.RetentionDays}}*86400
`))

var ejabberdTemplate = template.Must(template.New("ejabberd").Funcs(funcs).Parse(`# ejabberd 23.01 configuration for Rounds at {{.Domain}}.
# Generated by: {{.CommandLine}}
# Install as /etc/ejabberd/ejabberd.yml, then: ejabberdctl reload_config (or restart ejabberd).
# docs/ADMIN.md explains every choice.
#
# Names that need DNS and a certificate{{if .BehindProxy}} (the proxy's certificate for the HTTPS names){{end}}:
#   {{.Domain}}      the XMPP domain: client connections, and host-meta at https://{{.Domain}}/.well-known/host-meta
#   {{.PublicHost}}      WebSocket: {{.WSS}}{{if ne .UploadHost .PublicHost}}
#   {{.UploadHost}}      uploads: {{.UploadURL}}{{end}}

loglevel: info
log_rotate_count: 5

hosts:
  - "{{.Domain}}"

# One PEM per file: certificate chain and key.{{if not .BehindProxy}} It must cover {{join .CertNames ", "}}.{{end}}
certfiles:
  - "{{.CertDir}}/{{.Domain}}.pem"

acme:
  auto: false
{{- if .BehindProxy}}

# The reverse proxy's addresses: only from these is X-Forwarded-For believed
# (the device's address in logs), as Prosody's trusted_proxies.
trusted_proxies:
{{- range .ProxyAddrs}}
  - "{{.}}"
{{- end}}
{{- end}}

s2s_access: none           # no federation: a ward's messages stay on this server

shaper_rules:
  c2s_shaper: none         # the default throttles a client to 3000 B/s: a catch-up would crawl

listen:
  -
    port: {{.C2SPort}}
    ip: "{{if eq .Listen "*"}}::{{else}}{{.Listen}}{{end}}"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
    starttls_required: true
{{- if .BehindProxy}}
  -
    # The reverse proxy terminates TLS for {{.PublicHost}} and forwards here.
    port: {{.HTTPPort}}
    ip: "{{.HTTPListen}}"
    module: ejabberd_http
    request_handlers:
      /ws: ejabberd_http_ws
      /upload: mod_http_upload
      /.well-known/host-meta: mod_host_meta
{{- else}}
  -
    port: {{.HTTPSPort}}
    ip: "{{if eq .Listen "*"}}::{{else}}{{.Listen}}{{end}}"
    module: ejabberd_http
    tls: true
    request_handlers:
      /ws: ejabberd_http_ws
      /upload: mod_http_upload
      /.well-known/host-meta: mod_host_meta
  -
    # Plain HTTP for this machine only (health checks), as Prosody's http_ports.
    port: {{.HTTPPort}}
    ip: "{{.HTTPListen}}"
    module: ejabberd_http
    request_handlers:
      /ws: ejabberd_http_ws
{{- end}}

auth_method: internal
auth_password_format: scram
auth_scram_hash: sha256    # before the first account is created
disable_sasl_mechanisms:
  - "digest-md5"
  - "X-OAUTH2"

acl:
  admin:
    user:
      - "{{.Admin}}"
  local:
    user_regexp: ""

access_rules:
  local:
    allow: local
  c2s:
    allow: all
  muc_create:
    allow: local
  pubsub_createnode:       # only IT creates nodes: nobody else may own the policy node
    allow: admin
  register:
    deny: all              # accounts are created by IT

modules:
  mod_adhoc: {}
  mod_blocking: {}
  mod_caps: {}
  mod_carboncopy: {}       # XEP-0280
  mod_client_state: {}     # XEP-0352
  mod_disco: {}
  mod_host_meta:           # XEP-0156: staff type only name@{{.Domain}}
    websocket_url: "{{.WSS}}"
  mod_http_upload:         # XEP-0363; files are encrypted on the device before upload
    host: "upload.{{.Domain}}"
    docroot: "{{.DataDir}}/upload"
    put_url: "{{.UploadURL}}upload"
    get_url: "{{.UploadURL}}upload"
    max_size: {{.UploadLimitBytes}}
    thumbnail: false
  mod_http_upload_quota:
    max_days: {{.RetentionDays}}
  mod_last: {}
  mod_mam:                 # XEP-0313; 23.01 has no expiry option: rounds-retention.cron deletes after {{.RetentionDays}} days
    default: always
    assume_mam_usage: true
  mod_muc:
    access: [allow]
    access_create: muc_create
    access_persistent: muc_create
    access_mam: [allow]
    default_room_options:  # the safe defaults: members-only, non-anonymous, persistent, hidden, archived
      public: false
      members_only: true
      persistent: true
      anonymous: false
      allow_private_messages: false
      mam: true
  mod_muc_admin: {}         # ejabberdctl set_room_affiliation: room memberships (docs/ADMIN.md, step 8)
  mod_offline:
    use_mam_for_storage: false
  mod_ping: {}
  mod_privacy: {}
  mod_private: {}
  mod_pubsub:              # pubsub.{{.Domain}}: the Rounds policy and on-call nodes, and PEP
    access_createnode: pubsub_createnode
    plugins:
      - flat
      - pep
    force_node_config:
      storage:bookmarks:
        access_model: whitelist
  mod_roster:
    versioning: true
  mod_stream_mgmt:         # XEP-0198 with resumption
    resume_timeout: 300
  mod_time: {}             # XEP-0202: rounds-cli admin check compares clocks
  mod_vcard:
    search: false
  mod_version:
    show_os: false
`))

// retentionFile is ejabberd's archive expiry, which --write adds: 23.01 has
// no option that expires archived messages, only the
// delete_old_mam_messages command, so it is a nightly cron job generated
// from the same --retention-days as everything else.
const retentionFile = "rounds-retention.cron"

var retentionTemplate = template.Must(template.New("retention").Parse(`# Archive retention for Rounds at {{.Domain}}: ejabberd 23.01 has no option that expires
# archived messages, so this deletes, every night, 1:1 and room messages older than
# {{.RetentionDays}} days (--retention-days; match the policy's <retention days>), then
# offline messages never fetched that are as old.
# Uploads expire by themselves (mod_http_upload_quota max_days in ejabberd.yml).
# Generated by: {{.CommandLine}}
# Install as /etc/cron.d/rounds-retention (owned by root, mode 644).
17 3 * * * ejabberd /usr/sbin/ejabberdctl delete_old_mam_messages all {{.RetentionDays}}
27 3 * * * ejabberd /usr/sbin/ejabberdctl delete_old_messages {{.RetentionDays}}
`))

// nginxFile is the reverse proxy's configuration --write adds behind a proxy.
const nginxFile = "nginx-rounds.conf"

// nginxTemplate is the reverse proxy in front of either server
// (--behind-proxy). cli/deploy_test.go runs a real nginx from exactly this
// output in front of the real Prosody and ejabberd, and docs/ADMIN.md quotes
// it as written for the guide's example (TestAdminGuideCommands compares).
var nginxTemplate = template.Must(template.New("nginx").Funcs(funcs).Parse(`# nginx reverse proxy for Rounds at {{.Domain}} ({{.Server}} behind it).
# Generated by: {{.CommandLine}}
# Install as /etc/nginx/conf.d/rounds.conf (it goes inside nginx's http block), then: nginx -t && systemctl reload nginx
# Certificate: {{.ProxyCerts}}
# host-meta is served from https://{{.Domain}}/.well-known/host-meta{{if eq .Domain .PublicHost}}, forwarded below{{else}}: by whatever answers for {{.Domain}} (docs/ADMIN.md, step 5){{end}}.
{{- range .ProxyHosts}}
server {
    listen {{$.ProxyListenAddr}} ssl;
    server_name {{.}};
    ssl_certificate     {{$.ProxyCertDir}}/{{.}}.crt;
    ssl_certificate_key {{$.ProxyCertDir}}/{{.}}.key;
    client_max_body_size {{$.ProxyBodyMB}}m;     # above --upload-limit-mb {{$.UploadLimitMB}}
    location / {
        proxy_pass http://{{$.Upstream}};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;  # WebSocket (RFC 7395)
        proxy_set_header Connection "upgrade";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto https;  # the device came over TLS: it may sign in
        proxy_read_timeout 900s;                 # idle WebSockets: Rounds pings every 60 s
        proxy_request_buffering off;             # uploads stream through
    }
}
{{- end}}
`))

// serverConfigCommand prints (or, with --write, writes) a complete server
// configuration for Rounds and the host-meta document that goes with it.
func serverConfigCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rounds admin server-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d deployment
	d.flags(fs)
	write := fs.String("write", "", "write the configuration and host-meta into this folder instead of printing the configuration")
	force := fs.Bool("force", false, "with --write: replace the configuration and host-meta when they are already there")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if err := d.check(); err != nil {
		return withCode(ExitUsage, err)
	}
	if d.BehindProxy && !loopback(d.HTTPListen) {
		// Between the proxy and the server everything is in clear: anyone
		// on that network could read it, and ejabberd would even let them
		// sign in over it (Prosody refuses sign-in from other addresses).
		fmt.Fprintf(stderr, "warning: --http-listen %s: plain HTTP (the WebSocket, uploads) answers on a network interface; only the proxy (%s) may reach it (firewall), over a network no one else is on\n",
			d.HTTPListen, strings.Join(d.ProxyAddrs[2:], ", "))
	}
	var cfg bytes.Buffer
	if err := d.render(&cfg); err != nil {
		return err
	}
	if *write == "" {
		_, err := stdout.Write(cfg.Bytes())
		return err
	}
	name := map[string]string{"prosody": "prosody.cfg.lua", "ejabberd": "ejabberd.yml"}[d.Server]
	files := map[string][]byte{name: cfg.Bytes(), "host-meta": []byte(d.HostMeta())}
	written := []string{name}
	if d.Server == "ejabberd" {
		var cron bytes.Buffer
		if err := retentionTemplate.Execute(&cron, d); err != nil {
			return err
		}
		files[retentionFile] = cron.Bytes()
		written = append(written, retentionFile)
	}
	if d.BehindProxy {
		var proxy bytes.Buffer
		if err := nginxTemplate.Execute(&proxy, d); err != nil {
			return err
		}
		files[nginxFile] = proxy.Bytes()
		written = append(written, nginxFile)
	}
	if err := writeGenerated(*write, files, *force); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and host-meta to %s\nWebSocket: %s\ncertificates needed for: %s\n",
		strings.Join(written, ", "), *write, d.WSS(), strings.Join(d.CertNames(), ", "))
	return nil
}
