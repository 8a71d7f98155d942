package storage

import (
	"context"
	"sync"
)

// spareCaseKeys bounds the case keys made ahead of the filings that take
// them: enough for a burst of reports, a few kilobytes of memory.
const spareCaseKeys = 32

// spareKeys are case keys made in the background while the server has
// time, so that a filing need not make its own: making one and wrapping
// it are three of a filing's five X25519 operations, about half a
// millisecond here. When filings come faster than the keys are made, a
// filing makes its own, as before; the work is the same, only moved.
type spareKeys struct {
	keys   chan spareKey
	cancel context.CancelFunc
	done   chan struct{}
	stop   sync.Once
}

type spareKey struct {
	key     *caseKey
	wrapped []byte
	set     string // the recipients it is wrapped to
}

// newCaseKey returns a case key for a new case, with its wrapped form and
// the recipient set it is wrapped to, starting the spare keys' maker the
// first time.
func (db *DB) newCaseKey() (*caseKey, []byte, string, error) {
	db.sparesOnce.Do(db.startSpares)
	if db.spares != nil {
		select {
		case s := <-db.spares.keys:
			db.keys.cache.put(s.wrapped, s.key)
			return s.key, s.wrapped, s.set, nil
		default:
		}
	}
	key, wrapped, err := db.keys.newCaseKey()
	return key, wrapped, db.keys.recipientSet, err
}

func (db *DB) startSpares() {
	ctx, cancel := context.WithCancel(context.Background())
	s := &spareKeys{keys: make(chan spareKey, spareCaseKeys), cancel: cancel, done: make(chan struct{})}
	db.spares = s
	go func() {
		defer close(s.done)
		for {
			key, wrapped, err := db.keys.makeCaseKey()
			if err != nil {
				// Filings make their own; they report the error.
				db.log.Error("spare case keys", "error", err.Error())
				return
			}
			select {
			case s.keys <- spareKey{key: key, wrapped: wrapped, set: db.keys.recipientSet}:
			case <-ctx.Done():
				return
			}
		}
	}()
}

// stopSpares stops the spare keys' maker, if it started; the keys made and
// not taken are dropped.
func (db *DB) stopSpares() {
	db.sparesOnce.Do(func() {}) // none starts from now on
	if db.spares == nil {
		return
	}
	db.spares.stop.Do(func() {
		db.spares.cancel()
		<-db.spares.done
	})
}
