package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os/exec"
)

// PDFs: Go has no maintained PDF renderer, so page 1 is drawn by poppler's
// pdftoppm where it is installed (Linux desktops with poppler-utils), fed the
// plaintext through a pipe and read back as PNG through another: the
// document never touches the disk.

// ErrNoPDFPreview: no PDF renderer on this device (phones; desktops without
// poppler-utils), or the renderer could not read the document.
var ErrNoPDFPreview = errors.New("no PDF preview on this device")

// PDFRenderer is the path of pdftoppm, or "" where there is none.
func PDFRenderer() string {
	p, err := exec.LookPath("pdftoppm")
	if err != nil {
		return ""
	}
	return p
}

// RenderPDFPage runs tool (PDFRenderer's pdftoppm) on the PDF read from r and
// returns its page 1 scaled to fit maxPx×maxPx. Errors wrap ErrNoPDFPreview;
// the renderer's messages, which may quote the document, are not returned.
func RenderPDFPage(ctx context.Context, tool string, r io.Reader, maxPx int) (image.Image, error) {
	if tool == "" {
		return nil, ErrNoPDFPreview
	}
	cmd := exec.CommandContext(ctx, tool, "-png", "-f", "1", "-l", "1", "-singlefile",
		"-scale-to", fmt.Sprint(maxPx), "-")
	cmd.Stdin = r
	var out, errOut bytes.Buffer
	cmd.Stdout = &limitedBuffer{b: &out, max: 64 << 20}
	cmd.Stderr = &limitedBuffer{b: &errOut, max: 4 << 10}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: the renderer could not read this PDF", ErrNoPDFPreview)
	}
	img, err := png.Decode(&out)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoPDFPreview, err)
	}
	return img, nil
}

type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.b.Len()+len(p) > l.max {
		return 0, errors.New("output too large")
	}
	return l.b.Write(p)
}
