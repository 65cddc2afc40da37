package main

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"

// tcpTransport is authz.Transport for MQTT over TLS: the network filter's buffers of context
// id.
type tcpTransport struct{ id uint32 }

func (tcpTransport) ClientData(n int) ([]byte, error) { return proxywasm.GetDownstreamData(0, n) }
func (tcpTransport) SetClientData(b []byte) error     { return proxywasm.ReplaceDownstreamData(b) }
func (tcpTransport) BrokerData(n int) ([]byte, error) { return proxywasm.GetUpstreamData(0, n) }
func (tcpTransport) SetBrokerData(b []byte) error     { return proxywasm.ReplaceUpstreamData(b) }
func (tcpTransport) Resume() error                    { return proxywasm.ContinueTcpStream() }
func (tcpTransport) Close() error                     { return proxywasm.CloseDownstream() }

// Enter makes the connection's context the effective one: authorizer answers and the tick
// arrive on the root context.
func (t tcpTransport) Enter() error { return proxywasm.SetEffectiveContext(t.id) }

// wsTransport is authz.Transport for MQTT over WebSocket: the upgraded HTTP stream's body
// buffers, of context id.
type wsTransport struct{ id uint32 }

func (wsTransport) ClientData(n int) ([]byte, error) { return proxywasm.GetHttpRequestBody(0, n) }
func (wsTransport) SetClientData(b []byte) error     { return proxywasm.ReplaceHttpRequestBody(b) }
func (wsTransport) BrokerData(n int) ([]byte, error) { return proxywasm.GetHttpResponseBody(0, n) }
func (wsTransport) SetBrokerData(b []byte) error     { return proxywasm.ReplaceHttpResponseBody(b) }
func (wsTransport) Resume() error                    { return proxywasm.ContinueHttpRequest() }
func (wsTransport) Close() error                     { return proxywasm.ResetHttpStream() }

// Enter makes the stream's context the effective one (see tcpTransport.Enter).
func (t wsTransport) Enter() error { return proxywasm.SetEffectiveContext(t.id) }
