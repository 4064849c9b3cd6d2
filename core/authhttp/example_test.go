package authhttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"
)

// A Client sends each request with the source's credential. In a program,
// the source is the user's authx profile:
//
//	sess, err := session.Open("work") // ~/.config/authx/config.yaml
//	if err != nil { ... }
//	defer sess.Close()
//	client := authhttp.NewClient(sess, sess.Scope(), nil)
//
// Here a fixed credential stands in for it.
func ExampleClient() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "you sent %q", r.Header.Get("Authorization"))
	}))
	defer api.Close()

	src := authhttp.SourceFunc(func(context.Context) (*core.Credential, error) {
		return &core.Credential{Headers: []core.Header{{Name: "Authorization", Value: "Bearer t0ken"}}}, nil
	})
	client := authhttp.NewClient(src, []string{api.URL + "/"}, nil)

	req, _ := http.NewRequest(http.MethodGet, api.URL+"/me", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK you sent "Bearer t0ken"
}
