// Package compose holds the files of the docker compose stack (../docker-compose.yaml): the
// Dockerfile of the images built from this repository, mosquitto's configuration, the reference
// authorizer's rules, the certificate script and the throwaway token-signing key of the tests. It
// has no code; its test checks that the compose file, these files and envoy/envoy-compose.yaml
// agree (paths, ports, names, keys), since no Docker engine runs in this repository's CI.
// httppublish/ is the HTTP publish receiver the stack runs behind Envoy's http_publish cluster.
package compose
