package storage

import (
	"sync"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// userCache keeps the users that FindUserByID read, for userCacheTTL: every
// authenticated request checks that its user still exists, is enabled and
// has its role, and that read was 7% of the server's time. It holds staff
// accounts by their id, never a child's data. A user changed through this
// process (disabled, a new password) is dropped at once; a change made by
// another server is seen within the TTL, which bounds how long a disabled
// account's unexpired token still works there. The cache is bounded: when
// full, it starts over.
type userCache struct {
	mu      sync.Mutex
	entries map[uuid.UUID]cachedUser
	now     func() time.Time
}

type cachedUser struct {
	user    cases.User
	expires time.Time
}

const (
	userCacheTTL = 2 * time.Second
	userCacheMax = 10_000
)

func newUserCache() *userCache {
	return &userCache{entries: map[uuid.UUID]cachedUser{}, now: time.Now}
}

// get returns a copy of the cached user, or nil.
func (c *userCache) get(id uuid.UUID) *cases.User {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return nil
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, id)
		return nil
	}
	u := e.user
	return &u
}

func (c *userCache) put(u *cases.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= userCacheMax {
		clear(c.entries)
	}
	c.entries[u.ID] = cachedUser{user: *u, expires: c.now().Add(userCacheTTL)}
}

func (c *userCache) drop(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}
