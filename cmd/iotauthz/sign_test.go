package main

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs one subcommand in-process and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (make deps installs it)")
	}
}

func opensslSign(t *testing.T, key, token string) string {
	t.Helper()
	cmd := exec.Command("openssl", "dgst", "-sha256", "-sign", key)
	cmd.Stdin = strings.NewReader(token)
	sig, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl dgst: %v", err)
	}
	b64 := exec.Command("base64", "-w0")
	b64.Stdin = bytes.NewReader(sig)
	out, err := b64.Output()
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	return string(out)
}

func TestKeygenSign_MatchesOpenSSL(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	code, out, errs := runCLI(t, "keygen", "--out", dir)
	if code != 0 {
		t.Fatalf("keygen exit %d: %s%s", code, out, errs)
	}
	priv := filepath.Join(dir, "private.pem")
	pub := filepath.Join(dir, "public.pem")
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private.pem: %v, mode %v", err, fi.Mode())
	}
	// openssl must read both files, and they must be one pair.
	if b, err := exec.Command("openssl", "pkey", "-in", priv, "-noout").CombinedOutput(); err != nil {
		t.Fatalf("openssl pkey private.pem: %v: %s", err, b)
	}
	derived, err := exec.Command("openssl", "pkey", "-in", priv, "-pubout").Output()
	if err != nil {
		t.Fatal(err)
	}
	pubBytes, _ := os.ReadFile(pub)
	if !bytes.Equal(derived, pubBytes) {
		t.Fatalf("public.pem is not the public half of private.pem:\n%s\nvs\n%s", pubBytes, derived)
	}
	if !strings.HasPrefix(string(pubBytes), "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("public.pem is not SPKI: %q", pubBytes[:30])
	}

	// A PKCS#1 key written by openssl itself.
	pkcs1 := filepath.Join(dir, "pkcs1.pem")
	if b, err := exec.Command("openssl", "genrsa", "-traditional", "-out", pkcs1, "2048").CombinedOutput(); err != nil {
		t.Fatalf("openssl genrsa: %v: %s", err, b)
	}
	if b, _ := os.ReadFile(pkcs1); !strings.HasPrefix(string(b), "-----BEGIN RSA PRIVATE KEY-----") {
		t.Fatalf("openssl did not write PKCS#1: %q", b[:32])
	}

	tokens := []string{"allow-device-1", "a", "token with spaces & ?query=+/", "ünïcödé", strings.Repeat("x", 6144)}
	for _, key := range []string{priv, pkcs1} {
		for _, tok := range tokens {
			want := opensslSign(t, key, tok)
			code, out, errs := runCLI(t, "sign", "--key", key, tok)
			if code != 0 {
				t.Fatalf("sign exit %d: %s", code, errs)
			}
			if out != want+"\n" {
				t.Errorf("%s %.20q: sign printed %q, openssl %q", filepath.Base(key), tok, out, want)
			}
			// Flags after the token work too, and --urlencode round-trips.
			code, out, _ = runCLI(t, "sign", tok, "--urlencode", "--key", key)
			if code != 0 {
				t.Fatalf("sign --urlencode exit %d", code)
			}
			enc := strings.TrimSuffix(out, "\n")
			if strings.ContainsAny(enc, "+/=") {
				t.Errorf("--urlencode left reserved characters: %q", enc)
			}
			if dec, err := url.QueryUnescape(enc); err != nil || dec != want {
				t.Errorf("--urlencode %q does not decode to %q (%v)", enc, want, err)
			}
		}
	}
}

func TestSign_Errors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no key", []string{"sign", "tok"}, 2, "--key is required"},
		{"no token", []string{"sign", "--key", bad}, 2, "exactly one TOKEN"},
		{"two tokens", []string{"sign", "--key", bad, "a", "b"}, 2, "exactly one TOKEN"},
		{"missing file", []string{"sign", "--key", filepath.Join(dir, "nope.pem"), "t"}, 1, "no such file"},
		{"not PEM", []string{"sign", "--key", bad, "t"}, 1, "no PEM private key"},
		{"unknown flag", []string{"sign", "--nope"}, 2, "flag provided but not defined"},
		{"keygen small", []string{"keygen", "--bits", "1024", "--out", dir}, 2, "between 2048"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Fatalf("exit %d stderr %q; want %d and %q", code, errs, tc.code, tc.msg)
			}
		})
	}
}

func TestKeygen_NoOverwrite(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "private.pem"), []byte("keep"), 0o600)
	code, _, errs := runCLI(t, "keygen", "--out", dir)
	if code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("exit %d %q", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "private.pem")); string(b) != "keep" {
		t.Fatal("keygen overwrote private.pem without --force")
	}
}

func TestHelp(t *testing.T) {
	for _, name := range []string{"keygen", "sign", "authorizer", "test-invoke-authorizer"} {
		code, out, _ := runCLI(t, name, "--help")
		if code != 0 || !strings.Contains(out, "usage: iotauthz "+name) || !strings.Contains(out, "flags:") {
			t.Errorf("%s --help: exit %d, output %q", name, code, out)
		}
	}
}
