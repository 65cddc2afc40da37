package host_test

import (
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/host"
)

// proxy_on_log runs in Envoy's access-log phase (Context::log): the final
// request headers, response headers and response trailers are readable
// through the header-map calls (getConstMap serves access_log_*_headers_),
// and a write answers BadArgument.
// See https://github.com/envoyproxy/envoy/blob/main/source/extensions/common/wasm/context.cc
func TestHTTPStream_OnLogReadsHeaders(t *testing.T) {
	for _, profile := range []host.Profile{host.Envoy133, host.Envoy139} {
		t.Run(string(profile), func(t *testing.T) {
			p, _ := newPlugin(t, host.Config{Profile: profile})
			s := p.Worker(0).NewHTTPStream(host.Properties{})
			s.RequestHeaders(reqHeaders("pass"), true)
			s.ResponseHeaders(host.Headers{{":status", "201"}}, false)
			s.ResponseBody([]byte("ok"), false)
			s.ResponseTrailers(host.Headers{{"x-resp-trailer", "t1"}})
			s.Close()
			// 5 request headers; the pair count shows the whole map was read.
			want := "action=pass:0 status=201:0 trailer=t1:0 pairs=5:0 add=2"
			if got := logsContaining(p, "access_log "); len(got) != 1 || !strings.HasSuffix(got[0], want) {
				t.Fatalf("on_log: %q, want suffix %q", got, want)
			}

			// A local reply: the response headers are the reply's.
			p.ResetLogs()
			s = p.Worker(0).NewHTTPStream(host.Properties{})
			s.RequestHeaders(reqHeaders("local"), true)
			s.Close()
			want = "action=local:0 status=403:0 trailer=:2 pairs=5:0 add=2"
			if got := logsContaining(p, "access_log "); len(got) != 1 || !strings.HasSuffix(got[0], want) {
				t.Fatalf("on_log after a local reply: %q, want suffix %q", got, want)
			}

			// A stream reset before any response: no response headers.
			p.ResetLogs()
			s = p.Worker(0).NewHTTPStream(host.Properties{})
			s.RequestHeaders(reqHeaders("pass"), false)
			s.Close()
			want = "action=pass:0 status=:2 trailer=:2 pairs=5:0 add=2"
			if got := logsContaining(p, "access_log "); len(got) != 1 || !strings.HasSuffix(got[0], want) {
				t.Fatalf("on_log after a reset: %q, want suffix %q", got, want)
			}
		})
	}
}
