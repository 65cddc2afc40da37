// Package credentials finds where a device put its custom-authorizer credentials: query strings
// (of an HTTP request or of an MQTT CONNECT username) and the Host header or SNI.
//
// Parsing is lenient the way AWS IoT Core is: every key and value is percent-decoded, a
// malformed escape is kept as it is, and '+' stays '+' (a base64 signature contains '+'; it is
// never a space here). Nothing in this package allocates unless a value holds an escape.
// Everything is safe for concurrent use.
package credentials
