package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/iotauthz/iotauthz/refauth"
)

const authorizerHelp = `
usage: iotauthz authorizer --rules FILE [--listen ADDR] [--quiet] [--admin]

Serves the reference authorizer: the HTTP service the plugin calls in place of AWS IoT's Lambda
authorizer (DESIGN contract 2). It takes POST requests carrying the AWS custom-authorizer event as
JSON, on any path, and answers 200 with the AWS response JSON, chosen by the first rule of FILE
that matches the event. GET /healthz answers "ok". SIGHUP reloads FILE (a bad file keeps the old
rules and logs why); SIGINT or SIGTERM stop it after the requests in flight.

FILE is JSON:

  {
    "rules": [
      {"name": "devices", "match": {"tokenPrefix": "allow-"},
       "isAuthenticated": true, "principalId": "{{tokenSuffix}}",
       "refreshAfterInSeconds": 300, "disconnectAfterInSeconds": 86400,
       "policyDocuments": [{"Version": "2012-10-17", "Statement": [
         {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/{{clientId}}"},
         {"Effect": "Allow", "Action": ["iot:Publish", "iot:Subscribe", "iot:Receive"], "Resource": "*"}]}],
       "context": {"tenant": "acme"}},
      {"name": "down", "match": {"token": "slow"}, "fault": {"delayMillis": 6000}}
    ],
    "default": {"isAuthenticated": false, "principalId": "denied"}
  }

match keys (all optional, all must hold): token, tokenPrefix, username (whole, or the part before
'?'), password (decoded), clientId, clientIdPrefix, serverName, protocol ("tls"|"http"|"mqtt"),
signatureVerified (bool), header ({"name": "value"}), fromHit (from the Nth call for this token:
refresh tests). Answers may use {{token}}, {{tokenSuffix}}, {{clientId}}, {{username}},
{{serverName}} and {{connectionId}}. fault: delayMillis, status (HTTP status instead of 200), body
(raw text instead of the JSON answer), close (drop the connection). Without a default, unmatched
events are denied. The full reference is the refauth package documentation (go doc ./refauth).

--admin turns on a test-only HTTP API on the same port (never expose it): GET /admin/hits
[?token=T] ({"hits":N}: all requests, or those carrying token T), GET /admin/events (the last 1000
events), PUT /admin/rules (replace the rules with the body), POST /admin/reset (zero the counters).
The docker compose tester uses it to set each scenario's rules and read the hit counts.

Every request is logged on stderr (token, rule, decision) unless --quiet. On start it prints
"iotauthz authorizer: listening on http://HOST:PORT" on stdout.
`

func init() {
	register("authorizer", "serve the reference authorizer (AWS event in, AWS response out) from a rules file", runAuthorizer)
}

func runAuthorizer(args []string, stdout, stderr io.Writer) int {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return untilSignal(func(ctx context.Context) int { return serveAuthorizer(ctx, hup, args, stdout, stderr) })
}

// serveAuthorizer runs the service until ctx ends; each value on reload rereads the rules file.
func serveAuthorizer(ctx context.Context, reload <-chan os.Signal, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("authorizer", authorizerHelp, stdout, stderr)
	rulesPath := fs.String("rules", "", "JSON rules file (required; see above)")
	listen := fs.String("listen", "127.0.0.1:9000", "address to listen on, HOST:PORT (port 0 picks a free one)")
	quiet := fs.Bool("quiet", false, "do not log each request")
	admin := fs.Bool("admin", false, "serve the test-only /admin/ API (hits, events, rules, reset)")
	if code := parseNoArgs(fs, args, stdout); code >= 0 {
		return code
	}
	if *rulesPath == "" {
		fmt.Fprintln(stderr, "iotauthz authorizer: --rules is required (see --help)")
		return 2
	}
	rules, err := refauth.Load(*rulesPath)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz authorizer: %v\n", err)
		return 1
	}
	srv := refauth.New(rules)
	srv.Admin = *admin
	var logMu sync.Mutex
	logf := func(format string, a ...any) {
		logMu.Lock()
		fmt.Fprintf(stderr, time.Now().UTC().Format("2006-01-02T15:04:05.000Z")+" iotauthz authorizer: "+format+"\n", a...)
		logMu.Unlock()
	}
	if !*quiet {
		srv.Log = func(line string) { logf("%s", line) }
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz authorizer: %v\n", err)
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "iotauthz authorizer: listening on http://%s\n", ln.Addr())
	logf("%d rules from %s", len(rules.Rules), *rulesPath)
	for {
		select {
		case <-reload:
			r, err := refauth.Load(*rulesPath)
			if err != nil {
				logf("reload failed, keeping the old rules: %v", err)
				continue
			}
			srv.SetRules(r)
			logf("reloaded %d rules from %s", len(r.Rules), *rulesPath)
		case err := <-done:
			fmt.Fprintf(stderr, "iotauthz authorizer: %v\n", err)
			return 1
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				fmt.Fprintf(stderr, "iotauthz authorizer: shutdown: %v\n", err)
			}
			logf("stopped after %d requests", srv.Hits())
			return 0
		}
	}
}
