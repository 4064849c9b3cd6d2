package authhttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

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

// renewingSource is what a scheme does for a Client: it hands out its
// current token and, after a challenge, renews it. An authx session is
// such a source (the plugin decides how to renew).
type renewingSource struct{ token string }

func (s *renewingSource) Credential(context.Context) (*core.Credential, error) {
	return &core.Credential{Headers: []core.Header{{Name: "Authorization", Value: "Bearer " + s.token}}}, nil
}

// Challenge renews the token after a 401. The request is retried once with
// the credential it returns; true would also allow replaying a POST.
func (s *renewingSource) Challenge(_ context.Context, _ *core.Credential, _ core.HTTPRequest, resp core.HTTPResponse) (*core.Credential, bool, error) {
	if resp.Status != http.StatusUnauthorized {
		return nil, false, core.Errorf(core.KindForbidden, "forbidden (HTTP %d)", resp.Status)
	}
	s.token = "fresh"
	c, err := s.Credential(context.Background())
	return c, true, err
}

// After a 401 the Client asks the source to renew the credential and
// retries the request once: here the cached token went stale.
func ExampleClient_challenge() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "created %s", body)
	}))
	defer api.Close()

	client := authhttp.NewClient(&renewingSource{token: "stale"}, []string{api.URL + "/"}, nil)
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/notes", strings.NewReader("a note")) // GetBody is set: replayable
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK created a note
}
