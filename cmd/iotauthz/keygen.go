package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

const keygenHelp = `
usage: iotauthz keygen [--out DIR] [--bits 2048] [--force]

Generates an RSA key pair for signing custom-authorizer tokens and writes two PEM files into DIR:

  private.pem  the private key, PKCS#8 ("-----BEGIN PRIVATE KEY-----"), mode 0600. Keep it on the
               device side (or wherever tokens are issued); it signs tokens with 'iotauthz sign' or
               'openssl dgst -sha256 -sign private.pem'.
  public.pem   the public key, SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"). Put its text
               in the plugin configuration under authorizers[].tokenSigningPublicKeys.<keyName>,
               exactly as AWS IoT's CreateAuthorizer takes it.

The plugin refuses keys shorter than 2048 bits, as AWS IoT does. Existing files are not
overwritten unless --force is given. Both files are read by openssl:

  openssl pkey -in private.pem -noout && openssl pkey -pubin -in public.pem -noout
`

func init() {
	register("keygen", "write an RSA key pair (private.pem, public.pem) for token signing", runKeygen)
}

func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("keygen", keygenHelp, stdout, stderr)
	out := fs.String("out", ".", "directory to write private.pem and public.pem into (created if missing)")
	bits := fs.Int("bits", 2048, "RSA modulus size in bits (2048, 3072 or 4096)")
	force := fs.Bool("force", false, "overwrite existing private.pem and public.pem")
	if code := parseNoArgs(fs, args, stdout); code >= 0 {
		return code
	}
	if *bits < 2048 || *bits > 8192 {
		fmt.Fprintf(stderr, "iotauthz keygen: --bits %d: must be between 2048 and 8192\n", *bits)
		return 2
	}
	privPEM, pubPEM, err := generateKeyPair(*bits)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz keygen: %v\n", err)
		return 1
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "iotauthz keygen: %v\n", err)
		return 1
	}
	privPath := filepath.Join(*out, "private.pem")
	pubPath := filepath.Join(*out, "public.pem")
	if !*force {
		for _, p := range []string{privPath, pubPath} {
			if _, err := os.Stat(p); err == nil {
				fmt.Fprintf(stderr, "iotauthz keygen: %s exists (use --force to overwrite)\n", p)
				return 1
			}
		}
	}
	if err := os.WriteFile(privPath, privPEM, 0o600); err != nil {
		fmt.Fprintf(stderr, "iotauthz keygen: %v\n", err)
		return 1
	}
	if err := os.WriteFile(pubPath, pubPEM, 0o644); err != nil {
		fmt.Fprintf(stderr, "iotauthz keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (private, %d bits) and %s (public)\n", privPath, *bits, pubPath)
	return 0
}

// generateKeyPair returns an RSA key pair as PEM: PKCS#8 private key and SPKI public key.
func generateKeyPair(bits int) (privPEM, pubPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), nil
}
