package sync

import (
	"context"
	"slices"
	"strings"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// The rooms an account is in follow it across devices through its XEP-0402
// bookmarks (xmpp/xep0402.go): joining a room publishes its bookmark
// (autojoin), leaving retracts it, every sign-in reads the list and joins
// what another device joined (on our own server: onOwnService), and the
// notifications of the node (ours only: the client drops anyone else's)
// join and leave while signed in.

// RoomsChanged: rooms were joined or left because another of our devices
// did (its bookmarks changed); the inbox lists them accordingly.
type RoomsChanged struct{ Joined, Left []string }

func (RoomsChanged) isEvent() {}

// settingBookmarked records the rooms last seen in (or put into) the
// bookmarks, so a sign-in can tell a room another device left (bookmarked
// before, gone now: leave it) from one this device joined without
// publishing it (never bookmarked: publish it).
const settingBookmarked = "sync.rooms.bookmarked"

// publishBookmark puts room into our bookmarks (best effort: a server
// without PEP still has the room joined here).
func (s *Session) publishBookmark(ctx context.Context, c *xmpp.Client, room, nick string) {
	if !s.cfg.FollowBookmarks {
		return
	}
	if err := c.PublishBookmark(ctx, xmpp.Bookmark{Room: room, Nick: nick, Autojoin: true}); err != nil {
		s.log.Warn("sync: room bookmark not published", "room", room, "err", err)
		return
	}
	s.noteBookmarked(func(set []string) []string {
		if !slices.Contains(set, room) {
			set = append(set, room)
		}
		return set
	})
}

// retractBookmark takes room out of our bookmarks (best effort).
func (s *Session) retractBookmark(ctx context.Context, c *xmpp.Client, room string) {
	if !s.cfg.FollowBookmarks {
		return
	}
	if c == nil {
		s.noteLeaving(room, true) // retracted at the next sign-in
		return
	}
	if err := c.RetractBookmark(ctx, room); err != nil {
		s.log.Warn("sync: room bookmark not retracted", "room", room, "err", err)
		return
	}
	s.noteBookmarked(func(set []string) []string { return slices.DeleteFunc(set, func(r string) bool { return r == room }) })
}

func (s *Session) bookmarked() []string {
	b, err := s.store.Setting(settingBookmarked)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

func (s *Session) noteBookmarked(change func([]string) []string) {
	s.roomRecordsMu.Lock()
	defer s.roomRecordsMu.Unlock()
	set := change(s.bookmarked())
	if err := s.store.SetSetting(settingBookmarked, []byte(strings.Join(set, "\x00"))); err != nil {
		s.log.Warn("sync: recording bookmarked rooms", "err", err)
	}
}

// syncBookmarks runs at sign-in, before the remembered rooms are rejoined:
// rooms bookmarked (autojoin) by another device are remembered here too, so
// rejoinRooms joins them; a room this device remembers that was bookmarked
// before and is not now was left elsewhere and is forgotten here; one never
// bookmarked is published. A server that cannot tell changes nothing.
func (s *Session) syncBookmarks(ctx context.Context, c *xmpp.Client) error {
	if err := s.loadRooms(); err != nil {
		return err
	}
	marks, err := c.FetchBookmarks(ctx)
	if err != nil {
		s.log.Warn("sync: room bookmarks not read", "err", err)
		return nil
	}
	for _, r := range s.leaving() {
		if err := c.RetractBookmark(ctx, r); err != nil {
			s.log.Warn("sync: room bookmark not retracted", "room", r, "err", err)
			continue
		}
		s.noteLeaving(r, false)
		marks = slices.DeleteFunc(marks, func(b xmpp.Bookmark) bool { return b.Room == r })
	}
	before := s.bookmarked()
	local := localPart(s.account)
	var fresh []string
	listed := map[string]bool{}
	s.mu.Lock()
	for _, b := range marks {
		listed[b.Room] = true
		if !b.Autojoin || s.rooms[b.Room] != nil || !s.onOwnService(b.Room) {
			continue
		}
		nick := b.Nick
		if nick == "" {
			nick = local
		}
		s.rooms[b.Room] = &room{jid: b.Room, nick: nick, members: map[string]string{}}
		fresh = append(fresh, b.Room)
	}
	var left, unpublished []room
	for jid, r := range s.rooms {
		if listed[jid] {
			continue
		}
		if slices.Contains(before, jid) {
			left = append(left, room{jid: r.jid})
			delete(s.rooms, jid)
		} else {
			unpublished = append(unpublished, room{jid: r.jid, nick: r.nick})
		}
	}
	s.mu.Unlock()
	for _, r := range fresh {
		if err := s.store.SetConversation(r, securestore.KindRoom, ""); err != nil {
			return err
		}
	}
	if len(fresh) > 0 || len(left) > 0 {
		if err := s.saveRooms(); err != nil {
			return err
		}
	}
	rooms := make([]string, 0, len(listed))
	for r := range listed {
		rooms = append(rooms, r)
	}
	s.noteBookmarked(func([]string) []string { return rooms })
	for _, r := range unpublished {
		s.publishBookmark(ctx, c, r.jid, r.nick)
	}
	if len(fresh) > 0 || len(left) > 0 {
		ev := RoomsChanged{Joined: fresh}
		for _, r := range left {
			ev.Left = append(ev.Left, r.jid)
		}
		s.log.Info("sync: rooms follow the bookmarks", "joined", len(fresh), "left", len(ev.Left))
		s.emit(ev)
	}
	return nil
}

// onBookmarks: another of our devices changed the bookmarks (on the read
// loop: the joins run on their own goroutine).
func (s *Session) onBookmarks(set []xmpp.Bookmark, removed []string) {
	c := s.currentClient()
	if c == nil {
		return
	}
	go s.followBookmarks(c, set, removed)
}

func (s *Session) followBookmarks(c *xmpp.Client, set []xmpp.Bookmark, removed []string) {
	var ev RoomsChanged
	for _, b := range set {
		s.noteBookmarked(func(l []string) []string {
			if !slices.Contains(l, b.Room) {
				l = append(l, b.Room)
			}
			return l
		})
		if !b.Autojoin || s.isRoom(b.Room) || !s.onOwnService(b.Room) {
			continue
		}
		nick := b.Nick
		if nick == "" {
			nick = localPart(s.account)
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StepTimeout)
		err := s.enterRoom(ctx, c, b.Room, nick, func(ctx context.Context) error { return c.JoinRoom(ctx, b.Room, nick) })
		cancel()
		if err != nil {
			s.log.Warn("sync: bookmarked room not joined", "room", b.Room, "err", err)
			continue
		}
		_ = s.DismissInvitation(b.Room)
		ev.Joined = append(ev.Joined, b.Room)
	}
	for _, r := range removed {
		s.noteBookmarked(func(l []string) []string { return slices.DeleteFunc(l, func(x string) bool { return x == r }) })
		s.mu.Lock()
		rm := s.rooms[r]
		delete(s.rooms, r)
		s.mu.Unlock()
		if rm == nil {
			continue
		}
		if err := s.saveRooms(); err != nil {
			s.log.Warn("sync: forgetting a room left elsewhere", "err", err)
		}
		_ = c.LeaveRoom(r, rm.nick)
		ev.Left = append(ev.Left, r)
	}
	if len(ev.Joined) > 0 || len(ev.Left) > 0 {
		s.emit(ev)
	}
}

// onOwnService: room is on our own server's domain or one under it (the
// hospital's room service). Only those are joined from a bookmark: the
// bookmarks are shared with every client of the account, and a room on
// another server that one of them joined (a personal phone's public room,
// or a bookmark a server planted) must not turn up among the care teams of
// a ward device, nor carry what is typed there off the hospital's servers.
// Joining one by hand (or from an invitation) is still the user's choice.
func (s *Session) onOwnService(room string) bool {
	own := strings.ToLower(s.account[strings.LastIndexByte(s.account, '@')+1:])
	d := strings.ToLower(room[strings.LastIndexByte(room, '@')+1:])
	return d == own || strings.HasSuffix(d, "."+own)
}

// localPart is the local part of a bare JID.
func localPart(bare string) string {
	if i := strings.IndexByte(bare, '@'); i > 0 {
		return bare[:i]
	}
	return bare
}

// settingLeaving holds rooms left while offline whose bookmark the next
// sign-in retracts (before it, they would come back as joined elsewhere).
const settingLeaving = "sync.rooms.leaving"

func (s *Session) leaving() []string {
	b, err := s.store.Setting(settingLeaving)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

func (s *Session) noteLeaving(room string, add bool) {
	s.roomRecordsMu.Lock()
	defer s.roomRecordsMu.Unlock()
	set := slices.DeleteFunc(s.leaving(), func(r string) bool { return r == room })
	if add {
		set = append(set, room)
	}
	if err := s.store.SetSetting(settingLeaving, []byte(strings.Join(set, "\x00"))); err != nil {
		s.log.Warn("sync: recording a room left offline", "err", err)
	}
}
