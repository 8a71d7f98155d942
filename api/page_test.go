package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// page is any list's answer, its items kept raw.
type page struct {
	Items      []map[string]any `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

// walk reads every page of path with limit, following next_cursor, and
// returns the items' values of field in the order they came.
func (e *testEnv) walk(t *testing.T, path, token, field string, limit int) []string {
	t.Helper()
	var got []string
	cursor := ""
	sep := "?"
	if slices.Contains([]byte(path), '?') {
		sep = "&"
	}
	for range 100 {
		url := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		res := e.do("GET", url, token, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", url, res.status, res.body)
		}
		var p page
		must(t, json.Unmarshal(res.body, &p))
		if len(p.Items) > limit {
			t.Fatalf("GET %s: %d items, more than the limit", url, len(p.Items))
		}
		for _, it := range p.Items {
			got = append(got, fmt.Sprint(it[field]))
		}
		if p.NextCursor == nil {
			return got
		}
		cursor = *p.NextCursor
	}
	t.Fatalf("GET %s: no last page after 100", path)
	return nil
}

// TestPagination: every list answers pages of at most limit items with a
// keyset cursor; walking them gives every item once, in the list's order,
// and an item added before the cursor meanwhile neither repeats nor
// shifts one. On both databases.
func TestPagination(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newTestEnvOn(t, db)
		admin, sup := e.tokens["admin"], e.tokens["supervisor"]
		for _, name := range []string{"Delta", "Alpha", "Echo", "Charlie"} {
			if res := e.do("POST", "/v1/clients", admin, map[string]any{"name": name}); res.status != http.StatusCreated {
				t.Fatalf("client %s: %d %s", name, res.status, res.body)
			}
		}
		for _, name := range []string{"苏州纺织厂", "Anhui Toys"} {
			body := map[string]any{"name": name, "province": "江苏", "city": "苏州"}
			if res := e.do("POST", "/v1/factories", admin, body); res.status != http.StatusCreated {
				t.Fatalf("factory %s: %d %s", name, res.status, res.body)
			}
		}
		c := e.caseIn("own", cases.StateFollowUp)
		for _, m := range []string{"2026-09", "2026-10", "2026-10"} {
			if res := e.do("POST", "/v1/monthly-reports", sup, map[string]any{"client_id": e.fixture.Client.ID, "month": m}); res.status != http.StatusCreated {
				t.Fatalf("report %s: %d %s", m, res.status, res.body)
			}
		}
		for _, tc := range []struct{ path, token, field string }{
			{"/v1/clients", admin, "name"},
			{"/v1/factories", admin, "name"},
			{"/v1/users", admin, "email"},
			{"/v1/monthly-reports", sup, "id"},
			{"/v1/cases/" + c.ID.String() + "/events", sup, "at"},
		} {
			t.Run(tc.path, func(t *testing.T) {
				whole := e.walk(t, tc.path, tc.token, tc.field, 200)
				if len(whole) < 2 {
					t.Fatalf("%d items: too few to page", len(whole))
				}
				for _, limit := range []int{1, 2} {
					if got := e.walk(t, tc.path, tc.token, tc.field, limit); !slices.Equal(got, whole) {
						t.Fatalf("pages of %d: %q, want %q", limit, got, whole)
					}
				}
			})
		}
		t.Run("OKKeyset", func(t *testing.T) {
			res := e.do("GET", "/v1/clients?limit=2", admin, nil)
			var first page
			must(t, json.Unmarshal(res.body, &first))
			// A client that sorts before the cursor arrives between pages.
			if res := e.do("POST", "/v1/clients", admin, map[string]any{"name": "Aardvark"}); res.status != http.StatusCreated {
				t.Fatal(res.status)
			}
			res = e.do("GET", "/v1/clients?limit=2&cursor="+*first.NextCursor, admin, nil)
			var second page
			must(t, json.Unmarshal(res.body, &second))
			if len(second.Items) != 2 || second.Items[0]["name"] != "Delta" {
				t.Fatalf("second page %v, want Delta first (after Alpha, Charlie)", second.Items)
			}
		})
		t.Run("ErrCursor", func(t *testing.T) {
			for _, bad := range []string{"!!", "a%20b"} {
				if res := e.do("GET", "/v1/users?cursor="+bad, admin, nil); res.status != http.StatusBadRequest {
					t.Fatalf("cursor %q: %d %s", bad, res.status, res.body)
				}
			}
			if res := e.do("GET", "/v1/users?limit=201", admin, nil); res.status != http.StatusBadRequest {
				t.Fatalf("limit 201: %d", res.status)
			}
		})
	})
}
