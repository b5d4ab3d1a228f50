package tests

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// closeWindow asks an X11 window to close the way a window manager does when
// the user clicks its close button: a WM_PROTOCOLS/WM_DELETE_WINDOW client
// message. (xdotool's windowclose destroys the window under the client
// instead, which is not what a user does.) It speaks the X11 wire protocol
// directly over the display's unix socket; Xvfb started without -auth needs
// no authorisation for local clients.
func closeWindow(display int, window uint32) error {
	c, err := net.DialTimeout("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", display), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	le := binary.LittleEndian

	// Connection setup: little-endian, protocol 11.0, no authorisation.
	setup := []byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, err := c.Write(setup); err != nil {
		return err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil {
		return fmt.Errorf("x11 setup: %w", err)
	}
	rest := make([]byte, int(le.Uint16(head[6:8]))*4)
	if _, err := io.ReadFull(c, rest); err != nil {
		return fmt.Errorf("x11 setup: %w", err)
	}
	if head[0] != 1 {
		return fmt.Errorf("x11 setup refused (status %d): %q", head[0], rest)
	}

	reply := func() ([]byte, error) {
		b := make([]byte, 32)
		if _, err := io.ReadFull(c, b); err != nil {
			return nil, err
		}
		if b[0] == 0 {
			return nil, fmt.Errorf("x11 error code %d", b[1])
		}
		if b[0] == 1 && le.Uint32(b[4:8]) > 0 {
			extra := make([]byte, int(le.Uint32(b[4:8]))*4)
			if _, err := io.ReadFull(c, extra); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	intern := func(name string) (uint32, error) {
		pad := (4 - len(name)%4) % 4
		req := make([]byte, 8+len(name)+pad)
		req[0] = 16 // InternAtom
		req[1] = 0  // only-if-exists: false
		le.PutUint16(req[2:4], uint16(len(req)/4))
		le.PutUint16(req[4:6], uint16(len(name)))
		copy(req[8:], name)
		if _, err := c.Write(req); err != nil {
			return 0, err
		}
		b, err := reply()
		if err != nil {
			return 0, fmt.Errorf("InternAtom %s: %w", name, err)
		}
		return le.Uint32(b[8:12]), nil
	}
	protocols, err := intern("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	del, err := intern("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}

	// SendEvent(propagate=false, destination=window, mask=0, ClientMessage).
	req := make([]byte, 44)
	req[0] = 25
	le.PutUint16(req[2:4], 11)
	le.PutUint32(req[4:8], window)
	le.PutUint32(req[8:12], 0)
	ev := req[12:]
	ev[0] = 33 // ClientMessage
	ev[1] = 32 // format
	le.PutUint32(ev[4:8], window)
	le.PutUint32(ev[8:12], protocols)
	le.PutUint32(ev[12:16], del)
	le.PutUint32(ev[16:20], 0) // CurrentTime
	if _, err := c.Write(req); err != nil {
		return err
	}
	// GetInputFocus round trip: the server has handled SendEvent (or sent
	// its error) once this replies.
	if _, err := c.Write([]byte{43, 0, 1, 0}); err != nil {
		return err
	}
	_, err = reply()
	return err
}
