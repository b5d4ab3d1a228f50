//go:build packaging

package packaging

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hicolorSizes are the icon theme sizes the archive installs (assets/iconset).
var hicolorSizes = []int{16, 22, 24, 32, 48, 64, 128, 256, 512}

type tarEntry struct {
	mode os.FileMode
	data []byte
}

// linuxArchive returns the path of dist/Rounds-VERSION-linux-amd64.tar.xz.
func linuxArchive(t *testing.T, m appMeta) string {
	p := filepath.Join(dist(t), fmt.Sprintf("%s-%s-linux-amd64.tar.xz", m.Name, m.Version))
	mustExist(t, p, "package-linux")
	return p
}

// readTarXZ lists a .tar.xz through Debian's xz (the standard library has no
// xz reader): regular files with their bytes, directories with nil.
func readTarXZ(t *testing.T, path string) map[string]tarEntry {
	t.Helper()
	xz, err := exec.LookPath("xz")
	if err != nil {
		t.Fatal("xz not found (apt install xz-utils; make deps-package does)")
	}
	out, err := exec.Command(xz, "-dc", path).Output()
	if err != nil {
		t.Fatalf("xz -dc %s: %v", path, err)
	}
	entries := map[string]tarEntry{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch h.Typeflag {
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			entries[name] = tarEntry{mode: h.FileInfo().Mode(), data: b}
		case tar.TypeDir:
			entries[strings.TrimSuffix(name, "/")] = tarEntry{mode: h.FileInfo().Mode()}
		default:
			t.Errorf("%s: unexpected entry type %q (links or devices do not belong in the archive)", name, h.Typeflag)
		}
	}
	return entries
}

func TestLinuxArchiveHasBinaryDesktopFileAndIcons(t *testing.T) {
	m := readAppMeta(t)
	files := readTarXZ(t, linuxArchive(t, m))
	top := "rounds/"
	prefix := top + "usr/local/"

	need := func(name string) tarEntry {
		t.Helper()
		e, ok := files[name]
		if !ok || e.data == nil {
			t.Fatalf("%s missing from the archive", name)
		}
		return e
	}

	// The binary: an executable x86-64 ELF with FyneApp.toml's version baked in.
	bin := need(prefix + "bin/rounds")
	if bin.mode&0o111 == 0 {
		t.Errorf("bin/rounds is not executable: %v", bin.mode)
	}
	ef, err := elf.NewFile(bytes.NewReader(bin.data))
	if err != nil {
		t.Fatalf("bin/rounds is not ELF: %v", err)
	}
	if ef.Machine != elf.EM_X86_64 || ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
		t.Errorf("bin/rounds: machine %v type %v, want an x86-64 executable", ef.Machine, ef.Type)
	}
	if v, err := goStringVar(ef, "main.version"); err != nil {
		t.Errorf("main.version: %v", err)
	} else if v != m.Version {
		t.Errorf("main.version = %q, want FyneApp.toml's %q", v, m.Version)
	}
	// A real Fyne desktop build links the GL and X11 libraries through cgo.
	libs, err := ef.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if !containsPrefix(libs, "libGL.so") || !containsPrefix(libs, "libX11.so") {
		t.Errorf("bin/rounds does not link libGL and libX11: %v", libs)
	}

	// The .desktop entry is ours, byte for byte, and names the binary and icon.
	desktop := need(prefix + "share/applications/" + m.ID + ".desktop")
	want, err := os.ReadFile(filepath.Join(root(t), "assets", "linux", m.ID+".desktop"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(desktop.data, want) {
		t.Errorf("packaged .desktop differs from assets/linux/%s.desktop", m.ID)
	}
	if !regexp.MustCompile(`(?m)^Exec=rounds$`).Match(desktop.data) ||
		!regexp.MustCompile(`(?m)^Icon=`+regexp.QuoteMeta(m.ID)+`$`).Match(desktop.data) ||
		!regexp.MustCompile(`(?m)^Name=`+regexp.QuoteMeta(m.Name)+`$`).Match(desktop.data) {
		t.Errorf(".desktop does not start %q with icon %q:\n%s", "rounds", m.ID, desktop.data)
	}
	validate(t, "desktop-file-validate", desktop.data, m.ID+".desktop")

	// AppStream metainfo, valid, announcing this version.
	meta := need(prefix + "share/metainfo/" + m.ID + ".metainfo.xml")
	if !bytes.Contains(meta.data, []byte(`<id>`+m.ID+`</id>`)) {
		t.Errorf("metainfo does not carry the app id %s", m.ID)
	}
	if !bytes.Contains(meta.data, []byte(`<release version="`+m.Version+`"`)) {
		t.Errorf("metainfo has no <release> for version %s (update assets/linux/%s.metainfo.xml with FyneApp.toml)", m.Version, m.ID)
	}
	validate(t, "appstreamcli", meta.data, m.ID+".metainfo.xml", "validate", "--no-net")

	// Icons: the pixmap fyne installs and every hicolor size, each a PNG of its size.
	checkPNG(t, need(prefix+"share/pixmaps/"+m.ID+".png").data, 0, "pixmaps")
	for _, s := range hicolorSizes {
		name := fmt.Sprintf("%sshare/icons/hicolor/%dx%d/apps/%s.png", prefix, s, s, m.ID)
		checkPNG(t, need(name).data, s, name)
	}

	need(top + "Makefile")
}

// TestLinuxArchiveInstalls unpacks the archive and runs its Makefile the way
// a user would (into a DESTDIR), then uninstalls.
func TestLinuxArchiveInstalls(t *testing.T) {
	m := readAppMeta(t)
	archive := linuxArchive(t, m)
	work := t.TempDir()
	run(t, work, "tar", "-xJf", archive)
	dest := filepath.Join(t.TempDir(), "root")
	run(t, filepath.Join(work, "rounds"), "make", "install", "DESTDIR="+dest, "PREFIX=/usr/local")
	installed := []string{
		"usr/local/bin/rounds",
		"usr/local/share/applications/" + m.ID + ".desktop",
		"usr/local/share/metainfo/" + m.ID + ".metainfo.xml",
		"usr/local/share/pixmaps/" + m.ID + ".png",
	}
	for _, s := range hicolorSizes {
		installed = append(installed, fmt.Sprintf("usr/local/share/icons/hicolor/%dx%d/apps/%s.png", s, s, m.ID))
	}
	for _, p := range installed {
		fi, err := os.Stat(filepath.Join(dest, p))
		if err != nil {
			t.Errorf("make install did not install %s: %v", p, err)
			continue
		}
		if p == "usr/local/bin/rounds" && fi.Mode()&0o111 == 0 {
			t.Errorf("installed binary is not executable: %v", fi.Mode())
		}
	}
	run(t, filepath.Join(work, "rounds"), "make", "uninstall", "DESTDIR="+dest, "PREFIX=/usr/local")
	for _, p := range installed {
		if _, err := os.Stat(filepath.Join(dest, p)); err == nil {
			t.Errorf("make uninstall left %s", p)
		}
	}

	// make user-install: under ~/.local, with Exec pointing at the binary
	// there, since ~/.local/bin is often not on a desktop session's PATH.
	home := t.TempDir()
	run(t, filepath.Join(work, "rounds"), "make", "user-install", "HOME="+home)
	bin := filepath.Join(home, ".local", "bin", "rounds")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("make user-install: %v", err)
	}
	entry, err := os.ReadFile(filepath.Join(home, ".local", "share", "applications", m.ID+".desktop"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Exec=` + regexp.QuoteMeta(bin) + `$`).Match(entry) {
		t.Errorf("user-installed .desktop does not start %s:\n%s", bin, entry)
	}
	run(t, filepath.Join(work, "rounds"), "make", "user-uninstall", "HOME="+home)
	if _, err := os.Stat(bin); err == nil {
		t.Error("make user-uninstall left the binary")
	}
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// validate runs a distribution's own validator over data written to a file
// called name: the check software centres and packagers apply.
func validate(t *testing.T, tool string, data []byte, name string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Errorf("%s not found (make deps-package installs it)", tool)
		return
	}
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, append(args, f)...).CombinedOutput()
	if err != nil {
		t.Errorf("%s %s: %v\n%s", tool, name, err, out)
	}
}

// checkPNG decodes a PNG; size 0 means any square size.
func checkPNG(t *testing.T, data []byte, size int, what string) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Errorf("%s: not a PNG: %v", what, err)
		return
	}
	if cfg.Width != cfg.Height || size != 0 && cfg.Width != size {
		t.Errorf("%s: %d×%d, want %d×%d", what, cfg.Width, cfg.Height, size, size)
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// goStringVar reads an initialised Go string variable from an unstripped
// amd64 ELF binary: the symbol holds a (pointer, length) pair, the pointer
// leads to the bytes.
func goStringVar(f *elf.File, name string) (string, error) {
	syms, err := f.Symbols()
	if err != nil {
		return "", err
	}
	for _, s := range syms {
		if s.Name != name {
			continue
		}
		hdr, err := readAt(f, s.Value, 16)
		if err != nil {
			return "", err
		}
		ptr, n := binary.LittleEndian.Uint64(hdr), binary.LittleEndian.Uint64(hdr[8:])
		if n > 1<<10 {
			return "", fmt.Errorf("implausible length %d", n)
		}
		b, err := readAt(f, ptr, n)
		return string(b), err
	}
	return "", fmt.Errorf("symbol %s not found", name)
}

func readAt(f *elf.File, addr, n uint64) ([]byte, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr+n > p.Vaddr+p.Filesz {
			continue
		}
		b := make([]byte, n)
		_, err := p.ReadAt(b, int64(addr-p.Vaddr))
		return b, err
	}
	return nil, fmt.Errorf("address %#x not in a loaded segment", addr)
}
