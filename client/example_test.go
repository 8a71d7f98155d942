package client_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/remedy-cases/remedy/client"
)

// The README's example: sign in, then list the cases in follow-up.
func Example() {
	ctx, password := context.Background(), "demo-password-1"
	run := func() error {
		c, err := client.NewClientWithResponses("http://127.0.0.1:8080")
		if err != nil {
			return err
		}
		tok, err := c.CreateTokenWithResponse(ctx, client.TokenRequest{Email: "supervisor@demo.remedy", Password: password})
		if err != nil {
			return err
		}
		if tok.JSON200 == nil { // 401, 429 or 503: a problem
			return fmt.Errorf("sign-in: %s", tok.Status())
		}
		bearer := func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+tok.JSON200.AccessToken)
			return nil
		}
		state, limit := client.StateFollowUp, 20
		cases, err := c.ListCasesWithResponse(ctx, &client.ListCasesParams{State: &state, Limit: &limit}, bearer)
		if err != nil {
			return err
		}
		for _, cs := range cases.JSON200.Items {
			fmt.Println(cs.Code, cs.State)
		}
		return nil
	}
	_ = run // needs a running server: compiled, not run
}
