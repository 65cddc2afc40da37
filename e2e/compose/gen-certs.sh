#!/bin/sh
# Generates the throwaway TLS material of the docker compose stack into DIR (default ./certs):
#   ca.pem                       a test CA (its key is deleted once the server certificate is signed)
#   server.pem, server-key.pem   Envoy's certificate for the data endpoints iot.example.test and
#                                reject.iot.example.test, signed by that CA
# The compose "certs" service runs it at every start; nothing here is ever committed. The key is
# world-readable on purpose: Envoy's image runs as an unprivileged user, and the key is for tests.
set -eu
dir=${1:-./certs}
mkdir -p "$dir"
cd "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
  -subj "/CN=iotauthz e2e test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$tmp/ca-key.pem" -out ca.pem 2>/dev/null

openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=iot.example.test" \
  -keyout server-key.pem -out "$tmp/server.csr" 2>/dev/null

cat > "$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:iot.example.test,DNS:reject.iot.example.test,DNS:envoy,DNS:localhost
EXT
openssl x509 -req -in "$tmp/server.csr" -CA ca.pem -CAkey "$tmp/ca-key.pem" -CAcreateserial \
  -CAserial "$tmp/ca.srl" -days 30 -sha256 -extfile "$tmp/ext.cnf" -out server.pem 2>/dev/null

chmod 0644 ca.pem server.pem server-key.pem
echo "gen-certs: wrote $(pwd)/ca.pem, server.pem, server-key.pem"
