// Package gatewaytest makes the throwaway credentials a gateway demo or an end-to-end test needs:
// a certificate authority with a server certificate, and an RSA token-signing key pair that signs
// tokens the way `iotauthz sign` (and openssl) do; an embedded broker (Broker); and Repeat, the
// endless bytes a hostile-input test sends; Binary, the iotauthz command built once for the tests
// that run it as a person does.
//
// Nothing here is for production: keys live in memory and certificates are valid for a day.
// Everything is safe for concurrent use once made.
package gatewaytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/iotauthz/iotauthz/internal/rsakey"
)

// PKI is a self-signed certificate authority and one server certificate it issued.
type PKI struct {
	// CAPEM is the CA certificate (what clients pass as --cafile).
	CAPEM []byte
	// CertPEM and KeyPEM are the server certificate and its private key.
	CertPEM, KeyPEM []byte
	// Pool holds the CA certificate, for a client's tls.Config.RootCAs.
	Pool *x509.CertPool
	// Cert is CertPEM and KeyPEM, loaded for a server's tls.Config.
	Cert tls.Certificate
}

// NewPKI makes a CA and a server certificate for hosts: DNS names, or IP addresses given as text.
// The first host is also the certificate's common name.
func NewPKI(hosts ...string) (*PKI, error) {
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "iotauthz demo CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	ca, err := issue(caTmpl, nil)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for i, h := range hosts {
		if i == 0 {
			tmpl.Subject.CommonName = h
		}
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	srv, err := issue(tmpl, ca)
	if err != nil {
		return nil, err
	}
	p := &PKI{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.cert.Raw}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: srv.keyDER}),
		Pool:    x509.NewCertPool(),
	}
	p.Pool.AddCert(ca.cert)
	if p.Cert, err = tls.X509KeyPair(p.CertPEM, p.KeyPEM); err != nil {
		return nil, err
	}
	return p, nil
}

// WriteFiles writes ca.pem, server.pem and server-key.pem into dir and returns their paths.
func (p *PKI) WriteFiles(dir string) (ca, cert, key string, err error) {
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	for _, f := range []struct {
		path string
		b    []byte
		mode os.FileMode
	}{{ca, p.CAPEM, 0o644}, {cert, p.CertPEM, 0o644}, {key, p.KeyPEM, 0o600}} {
		if err = os.WriteFile(f.path, f.b, f.mode); err != nil {
			return "", "", "", err
		}
	}
	return ca, cert, key, nil
}

// ServerTLS returns a server configuration that presents the server certificate.
func (p *PKI) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.Cert}}
}

// ClientTLS returns a client configuration that trusts the CA and sends serverName as SNI, with
// the ALPN protocols given (none: no ALPN extension).
func (p *PKI) ClientTLS(serverName string, alpn ...string) *tls.Config {
	return &tls.Config{RootCAs: p.Pool, ServerName: serverName, NextProtos: alpn, MinVersion: tls.VersionTLS12}
}

// issued is a certificate and its P-256 key (also as PKCS#8).
type issued struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	keyDER []byte
}

// issue makes a P-256 key and a certificate for it from tmpl, signed by parent; with parent nil,
// self-signed.
func issue(tmpl *x509.Certificate, parent *issued) (*issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, err
	}
	is := &issued{key: key}
	if is.cert, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	if is.keyDER, err = x509.MarshalPKCS8PrivateKey(key); err != nil {
		return nil, err
	}
	return is, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}

// SigningKey is an RSA-2048 token-signing key pair.
type SigningKey struct {
	Key *rsa.PrivateKey
	// PublicPEM is the SPKI "PUBLIC KEY" PEM the plugin configuration's tokenSigningPublicKeys
	// holds; PrivatePEM the PKCS#8 "PRIVATE KEY" that `iotauthz sign --key` reads.
	PublicPEM, PrivatePEM []byte
}

// NewSigningKey generates an RSA-2048 key pair.
func NewSigningKey() (*SigningKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	priv, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return &SigningKey{
		Key:        k,
		PublicPEM:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		PrivatePEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}),
	}, nil
}

// Sign returns base64(RSASSA-PKCS1-v1_5(SHA-256(token))): the x-amz-customauthorizer-signature
// value, equal to `openssl dgst -sha256 -sign KEY | base64 -w0`.
func (k *SigningKey) Sign(token string) string {
	sig, err := rsakey.Sign(k.Key, []byte(token))
	if err != nil {
		panic(err) // cannot fail for a valid 2048-bit key and a SHA-256 digest
	}
	return sig
}

// ParsePrivateKey reads an RSA private key from PEM: PKCS#8 "PRIVATE KEY" (what `iotauthz keygen`
// writes) or PKCS#1 "RSA PRIVATE KEY", as `iotauthz sign` does.
func ParsePrivateKey(b []byte) (*rsa.PrivateKey, error) { return rsakey.ParsePEM(b) }

// SignWith is SigningKey.Sign for any RSA key.
func SignWith(k *rsa.PrivateKey, token string) string {
	return (&SigningKey{Key: k}).Sign(token)
}

// Username is an MQTT CONNECT username carrying custom-authorizer credentials as AWS IoT reads
// them: "prefix?x-amz-customauthorizer-name=AUTH&x-amz-customauthorizer-signature=SIG&KEY=TOKEN",
// each value percent-encoded. An empty authorizer or signature leaves that parameter out.
func Username(prefix, authorizer, tokenKey, token, signature string) string {
	q := ""
	add := func(k, v string) {
		if q != "" {
			q += "&"
		}
		q += k + "=" + url.QueryEscape(v)
	}
	if authorizer != "" {
		add("x-amz-customauthorizer-name", authorizer)
	}
	if signature != "" {
		add("x-amz-customauthorizer-signature", signature)
	}
	add(tokenKey, token)
	return prefix + "?" + q
}

// Repeat returns a reader of n bytes, each b, made as they are read: the oversized header line or
// body a hostile-input test sends without holding it in memory.
func Repeat(b byte, n int64) io.Reader { return io.LimitReader(repeat(b), n) }

type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}
