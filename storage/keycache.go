package storage

import (
	"crypto/sha256"
	"sync"
	"time"
)

// keyCache keeps recently unwrapped case keys, so that the reads and edits
// that follow one another on a case (verification, plan, follow-ups, a
// worker's identity and notes reads) do not unwrap its key each time: an
// unwrap is two X25519 operations, most of an identity read's time.
//
// Why it is safe: it lives in memory only, in the process that already
// holds the server's age identity, which unwraps every case key; it adds
// nothing that a look into that memory would not already give. It is keyed
// by the SHA-256 of the wrapped key as stored, never by anything about a
// child, and it is consulted only after the wrapped key was read from the
// database: an erased case has no wrapped key to read (the read answers
// "erased" whatever is cached), and a re-wrapped key is another entry.
// It is bounded in size and time: keyCacheMax entries, each for
// keyCacheTTL; when full, it starts over.
type keyCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedKey
	now     func() time.Time
}

type cachedKey struct {
	key     *caseKey
	expires time.Time
}

const (
	keyCacheMax = 4096
	keyCacheTTL = 10 * time.Minute
)

func newKeyCache() *keyCache {
	return &keyCache{entries: map[[sha256.Size]byte]cachedKey{}, now: time.Now}
}

func (c *keyCache) get(wrapped []byte) *caseKey {
	if c == nil {
		return nil
	}
	sum := sha256.Sum256(wrapped)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[sum]
	if !ok {
		return nil
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, sum)
		return nil
	}
	return e.key
}

func (c *keyCache) put(wrapped []byte, key *caseKey) {
	if c == nil {
		return
	}
	sum := sha256.Sum256(wrapped)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= keyCacheMax {
		clear(c.entries)
	}
	c.entries[sum] = cachedKey{key: key, expires: c.now().Add(keyCacheTTL)}
}
