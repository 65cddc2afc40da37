package gatewaybench

import (
	"errors"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
)

// The benchmarks cannot measure a wrong answer: the client fails on a refused CONNECT and on a
// PUBLISH the broker never acknowledges (the gateway closes the connection of a device that
// publishes outside its policy, mqtt.denyAction disconnect), and passes on the allowed ones.
func TestClientFailsOnWrongAnswers(t *testing.T) {
	s := getStack(t)
	users := s.usernames(1)
	deadline := time.Now().Add(30 * time.Second)

	bad := gatewaytest.Username("bench", authorizerName, tokenKey, "stolen", s.key.Sign("stolen"))
	if c, err := dialMQTT(s.gatewayAddr, s.clientTLS(), nextID("t-"), bad, 60, 512, deadline); err == nil {
		c.disconnect()
		t.Fatal("a CONNECT the authorizer denies was reported connected")
	} else if !errors.Is(err, errRefused) {
		t.Logf("denied CONNECT: %v (a close instead of the CONNACK refusal)", err)
	}

	c, err := dialMQTT(s.gatewayAddr, s.clientTLS(), nextID("t-"), users[0], 60, 512, deadline)
	if err != nil {
		t.Fatalf("allowed CONNECT: %v", err)
	}
	defer c.disconnect()
	if err := c.publishQoS1("bench/0/t", []byte("ok"), 50, 8, deadline); err != nil {
		t.Fatalf("allowed PUBLISHes: %v", err)
	}
	if err := c.publishQoS1("bench/1/t", []byte("no"), 5, 8, deadline); err == nil {
		t.Fatal("PUBLISHes outside the device's policy were all acknowledged")
	}
}
