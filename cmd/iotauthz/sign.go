package main

import (
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/iotauthz/iotauthz/internal/rsakey"
)

const signHelp = `
usage: iotauthz sign --key PRIVATE.pem [--urlencode] TOKEN

Prints the custom-authorizer signature of TOKEN: standard base64 (with padding) of the RSA
PKCS#1 v1.5 signature, with SHA-256, over the token's bytes exactly as given (no newline added).
The output is byte for byte what openssl gives:

  printf %s TOKEN | openssl dgst -sha256 -sign PRIVATE.pem | base64 -w0

followed by one newline. A device sends it in the x-amz-customauthorizer-signature header or
query parameter, or in its MQTT CONNECT username. TOKEN "-" reads the token from standard input,
every byte of it (a trailing newline is part of the token then).

--urlencode prints the percent-encoded form instead ('+' -> %2B, '/' -> %2F, '=' -> %3D), ready for
a query string or an MQTT username:

  user="device?x-amz-customauthorizer-name=tokens&x-amz-customauthorizer-signature=$(iotauthz sign --urlencode --key private.pem "$TOKEN")&x-device-token=$TOKEN"

PRIVATE.pem may hold a PKCS#8 ("PRIVATE KEY", as written by 'iotauthz keygen' and 'openssl
genpkey') or a PKCS#1 ("RSA PRIVATE KEY", 'openssl genrsa -traditional') RSA key. Encrypted keys
are not supported.
`

func init() {
	register("sign", "print the base64 RSA-SHA256 signature of a token (as openssl dgst -sha256 -sign)", runSign)
}

func runSign(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sign", signHelp, stdout, stderr)
	keyPath := fs.String("key", "", "PEM file with the RSA private key (required)")
	urlencode := fs.Bool("urlencode", false, "print the signature percent-encoded for a query string or MQTT username")
	pos, code := parseFlags(fs, args, stdout)
	if code >= 0 {
		return code
	}
	if *keyPath == "" {
		fmt.Fprintln(stderr, "iotauthz sign: --key is required (see --help)")
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "iotauthz sign: exactly one TOKEN argument is required (see --help)")
		return 2
	}
	tok := []byte(pos[0])
	if pos[0] == "-" {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintf(stderr, "iotauthz sign: reading the token from stdin: %v\n", err)
			return 1
		}
		tok = b
	}
	pemBytes, err := os.ReadFile(*keyPath)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz sign: %v\n", err)
		return 1
	}
	key, err := rsakey.ParsePEM(pemBytes)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz sign: %s: %v\n", *keyPath, err)
		return 1
	}
	sig, err := rsakey.Sign(key, tok)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz sign: %v\n", err)
		return 1
	}
	if *urlencode {
		sig = url.QueryEscape(sig)
	}
	fmt.Fprintln(stdout, sig)
	return 0
}
