package api

import (
	"encoding/base64"
	"slices"
	"strings"
)

// defaultPageLimit is a page's size when the client gives no limit.
const defaultPageLimit = 50

// keysetPage returns the page of items after cursor, at most limit of them,
// and the cursor of the next page (nil on the last). The cursor is a
// keyset: the sort key of the previous page's last item, base64url, so
// that a page starts after that key even if items were added or removed
// since, never skipping or repeating one by an offset. key must be unique
// per item; items are ordered by key (byte order), descending if desc.
// Returns a bad_request error for a cursor that is not one of ours.
func keysetPage[T any](items []T, key func(T) string, desc bool, limit *Limit, cursor *Cursor) ([]T, *string, error) {
	n := defaultPageLimit
	if limit != nil {
		n = *limit
	}
	keys := make(map[*T]string, len(items))
	sorted := make([]*T, len(items))
	for i := range items {
		sorted[i] = &items[i]
		keys[sorted[i]] = key(items[i])
	}
	slices.SortStableFunc(sorted, func(a, b *T) int {
		c := strings.Compare(keys[a], keys[b])
		if desc {
			c = -c
		}
		return c
	})
	start := 0
	if cursor != nil {
		after, err := base64.RawURLEncoding.DecodeString(*cursor)
		if err != nil {
			return nil, nil, badRequest("The cursor is not valid: send the next_cursor of the previous page.")
		}
		start, _ = slices.BinarySearchFunc(sorted, string(after), func(item *T, k string) int {
			c := strings.Compare(keys[item], k)
			if desc {
				c = -c
			}
			return c
		})
		if start < len(sorted) && keys[sorted[start]] == string(after) {
			start++
		}
	}
	end := min(start+n, len(sorted))
	page := make([]T, 0, end-start)
	for _, p := range sorted[start:end] {
		page = append(page, *p)
	}
	var next *string
	if end < len(sorted) {
		c := base64.RawURLEncoding.EncodeToString([]byte(keys[sorted[end-1]]))
		next = &c
	}
	return page, next, nil
}
