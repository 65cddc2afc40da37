package policy_test

import (
	"fmt"

	"github.com/iotauthz/iotauthz/policy"
)

func Example() {
	set, err := policy.CompileJSON([][]byte{[]byte(`{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId}"},
	    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:us-east-1:123456789012:topic/devices/${iot:ClientId}/*"},
	    {"Sid": "NoFirmware", "Effect": "Deny", "Action": "iot:Publish", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/*/firmware"}
	  ]
	}`)})
	if err != nil {
		panic(err)
	}
	const arn = "arn:aws:iot:us-east-1:123456789012:"
	dev1 := &policy.Vars{ClientID: "dev1", HasClientID: true}

	fmt.Println(set.Evaluate(policy.ActionConnect, arn+"client/dev1", dev1))
	fmt.Println(set.Evaluate(policy.ActionPublish, arn+"topic/devices/dev1/telemetry", dev1))
	fmt.Println(set.Evaluate(policy.ActionPublish, arn+"topic/devices/dev2/telemetry", dev1))
	res, why := set.Explain(policy.ActionPublish, arn+"topic/devices/dev1/firmware", dev1)
	fmt.Println(res, why[0].Path, why[0].Sid)
	// Output:
	// ALLOWED
	// ALLOWED
	// IMPLICIT_DENY
	// EXPLICIT_DENY Statement[2] NoFirmware
}

func ExampleParse_error() {
	_, err := policy.Parse([]byte(`{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "Action": "iot:Publish", "Resource": "topic/sensors"}
}`))
	fmt.Println(err)
	// Output:
	// Statement.Resource, line 3 column 73: resource "topic/sensors" must be "*" or an ARN arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, e.g. "arn:aws:iot:us-east-1:123456789012:topic/sensors/*"
}

func ExampleSet_Evaluate_context() {
	set := policy.MustCompileJSON(`{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iot:Subscribe",
	  "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/tenants/${context:tenant}/#"}}`)
	v := &policy.Vars{Context: map[string]string{"tenant": "acme"}}
	fmt.Println(set.Evaluate(policy.ActionSubscribe, "arn:aws:iot:us-east-1:123456789012:topicfilter/tenants/acme/#", v))
	fmt.Println(set.Evaluate(policy.ActionSubscribe, "arn:aws:iot:us-east-1:123456789012:topicfilter/tenants/acme/+", v))
	// Output:
	// ALLOWED
	// IMPLICIT_DENY
}

// The CONNECT's condition keys: AWS's "default features only" policy allows a clean CONNECT
// without a Will and refuses a persistent session.
func Example_connectAttributes() {
	set := policy.MustCompileJSON(`{
	  "Version": "2012-10-17",
	  "Statement": [{
	    "Effect": "Allow", "Action": "iot:Connect",
	    "Resource": "arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId}",
	    "Condition": {"ForAllValues:StringEquals": {"iot:ConnectAttributes": []}}
	  }]
	}`)
	const client = "arn:aws:iot:us-east-1:123456789012:client/dev1"
	clean := &policy.Vars{ClientID: "dev1", HasClientID: true, HasConnectAttributes: true}
	persistent := &policy.Vars{ClientID: "dev1", HasClientID: true,
		ConnectAttributes: []string{"PersistentConnect"}, HasConnectAttributes: true}
	fmt.Println(set.Evaluate(policy.ActionConnect, client, clean))
	fmt.Println(set.Evaluate(policy.ActionConnect, client, persistent))
	// Output:
	// ALLOWED
	// IMPLICIT_DENY
}
