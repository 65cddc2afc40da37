package policy

import (
	"reflect"
	"testing"
)

func TestMissingKeys(t *testing.T) {
	set := MustCompileJSON(`{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/${context:tenant}/${iot:ClientId}/${context:zone, 'eu'}",
	   "Condition":{"StringEquals":{"iot:Connection.Thing.ThingName":"t"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
	  {"Effect":"Deny","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":"LastWill"},"ArnLike":{"iot:LastWillTopic":"arn:aws:iot:*:*:topic/${iot:DomainName}"}}}]}`)
	for _, tc := range []struct {
		name   string
		action string
		v      *Vars
		want   []string
	}{
		{"publish, nothing given", "iot:Publish", nil, []string{"aws:SourceIp", "context:tenant", "iot:ClientId", "iot:Connection.Thing.ThingName"}},
		{"publish, all but the thing", "iot:Publish", &Vars{ClientID: "", HasClientID: true, SourceIP: "10.0.0.1", Context: map[string]string{"tenant": "a"}}, []string{"iot:Connection.Thing.ThingName"}},
		{"connect", "iot:Connect", &Vars{HasConnectAttributes: true}, []string{"iot:DomainName", "iot:LastWillTopic"}},
		{"connect, all given", "iot:Connect", &Vars{HasConnectAttributes: true, HasLastWillTopic: true, HasDomainName: true, DomainName: "d"}, nil},
		{"no statement for the action", "iot:Subscribe", nil, nil},
	} {
		if got := set.MissingKeys(tc.action, tc.v); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: MissingKeys = %q, want %q", tc.name, got, tc.want)
		}
	}
}
