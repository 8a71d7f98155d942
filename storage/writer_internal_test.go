package storage

import (
	"context"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
)

// TestOneWriter: SQLite's write slot goes to one holder at a time, the next
// one the moment it is released; a waiter gives up when its request is
// cancelled, or after the busy timeout with the busy answer.
func TestOneWriter(t *testing.T) {
	defer func(d time.Duration) { sqliteBusy = d }(sqliteBusy)
	sqliteBusy = 50 * time.Millisecond
	db := &DB{sqliteWriter: make(chan struct{}, 1)}
	release, err := db.oneWriter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.oneWriter(context.Background()); cases.ErrorCode(err) != cases.ECONFLICT {
		t.Fatalf("a second writer while the first holds the slot: %v, want busy", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.oneWriter(cancelled); err != context.Canceled {
		t.Fatalf("a cancelled request: %v", err)
	}
	got := make(chan error, 1)
	sqliteBusy = 5 * time.Second
	go func() {
		r, err := db.oneWriter(context.Background())
		if err == nil {
			r()
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("the waiter after the release: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter did not get the slot when it was released")
	}
	// On PostgreSQL there is no slot: nothing waits.
	pg := &DB{}
	for range 3 {
		r, err := pg.oneWriter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer r()
	}
}
