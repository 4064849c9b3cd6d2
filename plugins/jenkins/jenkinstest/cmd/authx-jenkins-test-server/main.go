// Command authx-jenkins-test-server serves the jenkinstest Jenkins emulator on
// 127.0.0.1 (a random port) for demos, until interrupted.
//
// It prints two lines on stdout: the base URL, then a freshly generated API
// token of the user. A human-readable summary goes to stderr.
//
// The user (-user, default admin) is an administrator whose password is
// -password, else $AUTHX_JENKINS_PASSWORD, else "admin-pw" (prefer the
// environment: command lines are visible to other local users). One job,
// -job (default demo), exists; -token sets its "Trigger builds remotely"
// token (default none).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/authx/authx/plugins/jenkins/jenkinstest"
)

func main() {
	user := flag.String("user", "admin", "`NAME` of the administrator account")
	password := flag.String("password", "", "the account's `PASSWORD` (default $AUTHX_JENKINS_PASSWORD, else admin-pw)")
	job := flag.String("job", "demo", "`NAME` of the demo job (folder/name for a job in a folder)")
	token := flag.String("token", "", "the demo job's trigger `TOKEN` (default: none)")
	field := flag.String("crumb-field", "", "crumb request field `NAME` (default Jenkins-Crumb)")
	noCSRF := flag.Bool("csrf-disabled", false, "run without a crumb issuer")
	anonRead := flag.Bool("anonymous-read", false, "grant anonymous callers read access")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "authx-jenkins-test-server: unexpected arguments:", flag.Args())
		os.Exit(2)
	}
	pw := *password
	if pw == "" {
		pw = os.Getenv("AUTHX_JENKINS_PASSWORD")
	}
	if pw == "" {
		pw = "admin-pw"
	}

	s := jenkinstest.Start(jenkinstest.Options{
		Users:         map[string]jenkinstest.User{*user: {Password: pw, Permissions: []string{"hudson.model.Hudson.Administer"}}},
		Jobs:          map[string]jenkinstest.Job{*job: {Token: *token}},
		CrumbField:    *field,
		CSRFDisabled:  *noCSRF,
		AnonymousRead: *anonRead,
	})
	defer s.Close()
	_, apiToken := s.NewAPIToken(*user, "authx demo")

	fmt.Println(s.URL)
	fmt.Println(apiToken)
	os.Stdout.Sync()
	fmt.Fprintf(os.Stderr, "Jenkins emulator on %s: user %s (password and API token given), job %q", s.URL, *user, *job)
	if *token != "" {
		fmt.Fprint(os.Stderr, " with a trigger token")
	}
	fmt.Fprintln(os.Stderr, "; Ctrl-C stops it")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}
