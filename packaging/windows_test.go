//go:build packaging

package packaging

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// Resource types (winuser.h).
const (
	rtIcon      = 3
	rtGroupIcon = 14
	rtVersion   = 16
	rtManifest  = 24
)

// TestWindowsExe proves dist/Rounds.exe is what Windows will start as a GUI
// app on amd64, with the icon, version information and manifest that
// Explorer and the installer show. Wine cannot run Go 1.22+ binaries, so
// this reads the file instead of running it.
func TestWindowsExe(t *testing.T) {
	m := readAppMeta(t)
	path := filepath.Join(dist(t), m.Name+".exe")
	mustExist(t, path, "package-windows")
	f, err := pe.Open(path)
	if err != nil {
		t.Fatalf("%s is not a PE file: %v", path, err)
	}
	defer f.Close()

	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("machine %#x, want AMD64 (%#x)", f.Machine, pe.IMAGE_FILE_MACHINE_AMD64)
	}
	if f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
		t.Error("not marked as an executable image")
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatalf("optional header %T, want PE32+ (64-bit)", f.OptionalHeader)
	}
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		t.Errorf("subsystem %d, want WINDOWS_GUI (%d): built without -H=windowsgui, a console would open", oh.Subsystem, pe.IMAGE_SUBSYSTEM_WINDOWS_GUI)
	}
	// The Fyne GL driver through cgo: a build without it would not draw.
	// (debug/pe's ImportedLibraries is unimplemented; symbols carry the DLL.)
	syms, err := f.ImportedSymbols()
	if err != nil {
		t.Fatal(err)
	}
	dlls := map[string]bool{}
	for _, s := range syms {
		if _, dll, ok := strings.Cut(s, ":"); ok {
			dlls[strings.ToLower(dll)] = true
		}
	}
	if !dlls["opengl32.dll"] || !dlls["gdi32.dll"] {
		t.Errorf("does not import opengl32.dll and gdi32.dll (cgo GL driver missing?): %v", dlls)
	}

	sec := f.Section(".rsrc")
	if sec == nil {
		t.Fatal("no .rsrc section: icon and version information missing")
	}
	res, err := readResources(sec)
	if err != nil {
		t.Fatalf("resource directory: %v", err)
	}
	for _, typ := range []uint32{rtIcon, rtGroupIcon, rtVersion, rtManifest} {
		if len(res[typ]) == 0 {
			t.Errorf("no resource of type %d", typ)
		}
	}

	// The icon: PNG-compressed (Vista and later), square, at least 256 px.
	if len(res[rtIcon]) > 0 {
		ico := res[rtIcon][0]
		cfg, err := png.DecodeConfig(bytes.NewReader(ico))
		if err != nil {
			t.Errorf("RT_ICON is not a PNG: %v", err)
		} else if cfg.Width != cfg.Height || cfg.Width < 256 {
			t.Errorf("icon %d×%d, want square ≥ 256", cfg.Width, cfg.Height)
		} else {
			t.Logf("icon %d×%d PNG", cfg.Width, cfg.Height)
		}
	}
	// The group icon directory points at that icon.
	if len(res[rtGroupIcon]) > 0 {
		g := res[rtGroupIcon][0]
		if len(g) < 6 || binary.LittleEndian.Uint16(g[2:]) != 1 || binary.LittleEndian.Uint16(g[4:]) < 1 {
			t.Errorf("RT_GROUP_ICON is not an icon directory: % x", g[:min(len(g), 16)])
		}
	}

	// Version information: the fixed file version and the strings Explorer shows.
	if len(res[rtVersion]) > 0 {
		fixed, strs, err := parseVersionInfo(res[rtVersion][0])
		if err != nil {
			t.Fatalf("VS_VERSIONINFO: %v", err)
		}
		want := m.Version + "." + m.Build
		if fixed != want {
			t.Errorf("file version %s, want %s (FyneApp.toml Version.Build)", fixed, want)
		}
		if strs["ProductName"] != m.Name || strs["FileDescription"] != m.Name {
			t.Errorf("ProductName %q FileDescription %q, want %q", strs["ProductName"], strs["FileDescription"], m.Name)
		}
		if strs["ProductVersion"] != want {
			t.Errorf("ProductVersion %q, want %q", strs["ProductVersion"], want)
		}
		t.Logf("file version %s, strings %v", fixed, strs)
	}
	if len(res[rtManifest]) > 0 && !bytes.Contains(res[rtManifest][0], []byte("assemblyIdentity")) {
		t.Errorf("RT_MANIFEST is not an application manifest: %.200s", res[rtManifest][0])
	}
}

// readResources walks the three-level resource tree (type → name → language)
// of a .rsrc section and returns every leaf's bytes by type id.
func readResources(sec *pe.Section) (map[uint32][][]byte, error) {
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	out := map[uint32][][]byte{}
	var walk func(off uint32, depth int, typ uint32) error
	walk = func(off uint32, depth int, typ uint32) error {
		if depth > 3 || int(off)+16 > len(data) {
			return fmt.Errorf("directory at %#x out of bounds", off)
		}
		n := int(binary.LittleEndian.Uint16(data[off+12:])) + int(binary.LittleEndian.Uint16(data[off+14:]))
		for i := 0; i < n; i++ {
			e := int(off) + 16 + 8*i
			if e+8 > len(data) {
				return errors.New("entry out of bounds")
			}
			id := binary.LittleEndian.Uint32(data[e:])
			to := binary.LittleEndian.Uint32(data[e+4:])
			if depth == 0 {
				typ = id
			}
			if to&0x80000000 != 0 {
				if err := walk(to&0x7fffffff, depth+1, typ); err != nil {
					return err
				}
				continue
			}
			if int(to)+16 > len(data) {
				return errors.New("data entry out of bounds")
			}
			rva := binary.LittleEndian.Uint32(data[to:])
			size := binary.LittleEndian.Uint32(data[to+4:])
			start := int64(rva) - int64(sec.VirtualAddress)
			if start < 0 || start+int64(size) > int64(len(data)) {
				return fmt.Errorf("resource data at RVA %#x outside .rsrc", rva)
			}
			out[typ] = append(out[typ], data[start:start+int64(size)])
		}
		return nil
	}
	return out, walk(0, 0, 0)
}

// parseVersionInfo reads a VS_VERSIONINFO block: the fixed file version as
// "a.b.c.d" and the StringFileInfo strings.
func parseVersionInfo(b []byte) (string, map[string]string, error) {
	strs := map[string]string{}
	var fixed string
	var node func(b []byte, depth int) error
	node = func(b []byte, depth int) error {
		if len(b) < 6 {
			return errors.New("short block")
		}
		length := int(binary.LittleEndian.Uint16(b))
		valueLen := int(binary.LittleEndian.Uint16(b[2:]))
		textual := binary.LittleEndian.Uint16(b[4:]) == 1
		if length > len(b) || length < 6 {
			return fmt.Errorf("block length %d of %d", length, len(b))
		}
		b = b[:length]
		key, p := utf16z(b, 6)
		p = align4(p)
		valueBytes := valueLen
		if textual {
			valueBytes = valueLen * 2
		}
		if p+valueBytes > len(b) {
			return fmt.Errorf("%s: value out of bounds", key)
		}
		value := b[p : p+valueBytes]
		switch {
		case key == "VS_VERSION_INFO":
			if len(value) < 52 || binary.LittleEndian.Uint32(value) != 0xFEEF04BD {
				return errors.New("no VS_FIXEDFILEINFO")
			}
			ms, ls := binary.LittleEndian.Uint32(value[8:]), binary.LittleEndian.Uint32(value[12:])
			fixed = fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xffff, ls>>16, ls&0xffff)
		case depth == 3 && textual:
			s, _ := utf16z(value, 0)
			strs[key] = s
		}
		for p = align4(p + valueBytes); p < len(b); {
			l := int(binary.LittleEndian.Uint16(b[p:]))
			if l == 0 || p+l > len(b) {
				break
			}
			if err := node(b[p:p+l], depth+1); err != nil {
				return err
			}
			p = align4(p + l)
		}
		return nil
	}
	if err := node(b, 0); err != nil {
		return "", nil, err
	}
	return fixed, strs, nil
}

// utf16z decodes a NUL-terminated UTF-16LE string at b[p:] and returns the
// offset after the terminator.
func utf16z(b []byte, p int) (string, int) {
	var u []uint16
	for ; p+1 < len(b); p += 2 {
		c := binary.LittleEndian.Uint16(b[p:])
		if c == 0 {
			return string(utf16.Decode(u)), p + 2
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), p
}

func align4(p int) int { return (p + 3) &^ 3 }
