package session

// Action is an AWS IoT policy action the session asks a Policy about.
type Action uint8

// Actions, with the resource name passed to Policy.Allow.
const (
	Connect       Action = iota // iot:Connect, name = client id
	Publish                     // iot:Publish, name = topic
	RetainPublish               // iot:RetainPublish, name = topic (PUBLISH with RETAIN, after Publish)
	Subscribe                   // iot:Subscribe, name = topic filter
	Receive                     // iot:Receive, name = topic of a PUBLISH from the broker
)

var actionNames = [...]string{"iot:Connect", "iot:Publish", "iot:RetainPublish", "iot:Subscribe", "iot:Receive"}

// String returns the policy action name, e.g. "iot:Publish".
func (a Action) String() string { return enumName(actionNames[:], int(a), "iot:Unknown") }

// enumName is names[i], or unknown for a value past the names.
func enumName(names []string, i int, unknown string) string {
	if i < len(names) {
		return names[i]
	}
	return unknown
}

// Policy decides one action on one resource name. name aliases packet bytes: it is valid only
// during the call. Allow(Connect, clientID) is always the first call of a connection, so a Policy
// that needs ${iot:ClientId} can take it from there (or from Session.Connect).
type Policy interface {
	Allow(a Action, name []byte) bool
}

// ConnectPolicy is a Policy that needs the whole CONNECT to decide iot:Connect: the connect
// attributes (clean session, Will) and the Will topic, which AWS IoT policies test with the
// iot:ConnectAttributes and iot:LastWillTopic condition keys. The session calls SetConnect just
// before Allow(Connect, clientID).
type ConnectPolicy interface {
	Policy
	SetConnect(ci *ConnectInfo)
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(a Action, name []byte) bool

// Allow implements Policy.
func (f PolicyFunc) Allow(a Action, name []byte) bool { return f(a, name) }

// DenyAction is what a denied client PUBLISH or SUBSCRIBE does (mqtt.denyAction).
type DenyAction uint8

const (
	// DenyDisconnect closes the connection (AWS IoT Core's MQTT 3.1.1 behaviour). The default.
	DenyDisconnect DenyAction = iota
	// DenyReject drops the publish and answers it (PUBACK/PUBREC, 0x87 in MQTT 5), and answers
	// denied subscription filters with SUBACK 0x80 (3.1.1) or 0x87 (5) while allowed filters of the
	// same SUBSCRIBE still subscribe.
	DenyReject
	// DenyByVersion is AWS IoT Core's behaviour per protocol version: DenyDisconnect for MQTT
	// 3.1.1, DenyReject for MQTT 5 (PUBACK/SUBACK reason 0x87; a denied QoS 0 PUBLISH, which has
	// no acknowledgement, is dropped).
	DenyByVersion
)

// Options configure a Session. The zero value is usable once a Policy arrives (Resume).
type Options struct {
	// MaxPacketBytes bounds every MQTT packet in both directions (fixed header included). A larger
	// one closes the connection. 0 means DefaultMaxPacketBytes.
	MaxPacketBytes int
	// DenyAction for denied client PUBLISH and SUBSCRIBE. A denied iot:Receive always drops the
	// broker's PUBLISH; a denied iot:Connect always closes.
	DenyAction DenyAction
	// RewriteUsername, when set, maps the CONNECT user name before the CONNECT goes to the broker
	// (e.g. to strip the x-amz-customauthorizer-* query parameters). The result may alias its
	// argument. An empty result removes the user name, except in MQTT 3.1.1 when a password is
	// present (the user name flag is then required; an empty user name is sent).
	RewriteUsername func(username []byte) []byte
	// ForwardPassword keeps the CONNECT password in the CONNECT forwarded to the broker. By
	// default the session removes the password and its flag: it is a credential for the
	// authorizer, not for the broker.
	ForwardPassword bool
	// OnDecision, when set, is called for every decision (see Decision), synchronously.
	OnDecision func(d Decision)
	// Preauthorized is the policy of a connection whose credentials came before MQTT (WebSocket
	// upgrade request): the CONNECT is then checked against it at once (iot:Connect) instead of
	// returning NeedAuth.
	Preauthorized Policy
	// QuietAllowedPublish, when set, counts allowed Publish-In and Publish-Out decisions (read
	// them with TakeAllowedCount) instead of reporting each through OnDecision: the per-packet
	// path then makes no call out of the session. Denials and other events are still reported.
	QuietAllowedPublish bool
	// MemoEntries is the size of the per-connection memo of (action, name) → allowed, cleared by
	// SetPolicy. 0 means DefaultMemoEntries; negative disables the memo. Names longer than 256
	// bytes are not memoized.
	MemoEntries int
	// Limits are AWS IoT Core's message broker limits (see Limits); the zero value checks none.
	Limits Limits
}

// Defaults for Options.
const (
	DefaultMaxPacketBytes = 131072
	DefaultMemoEntries    = 64
)

// Decision events (the eventType of AWS IoT's logs).
const (
	EventConnect    = "Connect"
	EventPublishIn  = "Publish-In"
	EventPublishOut = "Publish-Out"
	EventSubscribe  = "Subscribe"
	EventDisconnect = "Disconnect"
)

// Disconnect reasons (AWS IoT's disconnectReason values) used in Decision.Reason and Result.Reason.
const (
	ReasonForbidden        = "FORBIDDEN_ACCESS"            // a denied action closed the connection
	ReasonClientError      = "CLIENT_ERROR"                // the client broke the protocol
	ReasonServerError      = "SERVER_ERROR"                // the broker broke the protocol
	ReasonClientDisconnect = "CLIENT_INITIATED_DISCONNECT" // the client sent DISCONNECT
	ReasonServerDisconnect = "SERVER_INITIATED_DISCONNECT" // the broker sent DISCONNECT (MQTT 5)
	ReasonAuthorization    = "AUTHORIZATION_FAILURE"       // Decision.Reason of a denied action
)

// Decision is one authorization decision or connection event, for logs and metrics.
//
//   - Connect: Action Connect, Name = client id.
//   - Publish-In: Action Publish or RetainPublish, Name = topic (the real topic when the packet
//     used a topic alias), QoS and Retain of the packet.
//   - Publish-Out: Action Receive, Name = topic, QoS and Retain of the broker's packet.
//   - Subscribe: Action Subscribe, Name = topic filter, QoS = requested QoS. One per filter.
//   - Disconnect: Allowed is true, Reason is the disconnectReason (ReasonForbidden, ReasonClientError,
//     ReasonServerError, ReasonClientDisconnect, ReasonServerDisconnect), Details says why.
//
// Denied decisions have Reason ReasonAuthorization. Name aliases packet bytes: copy it to keep it.
type Decision struct {
	Event   string
	Action  Action
	Name    []byte
	Allowed bool
	QoS     byte
	Retain  bool
	Reason  string
	Details string // why, for a denial by Options.Limits
	// Will: the decision is the check of the CONNECT's Will message (Event Connect, Action
	// Publish or RetainPublish, Name = the Will topic).
	Will bool
}

// Status tells the glue what to do after a call.
type Status uint8

const (
	// Continue: replace the input by Out (or keep it as is when Unchanged) and go on.
	Continue Status = iota
	// NeedAuth: a CONNECT waits for the authorizer. Out holds what precedes it (nothing, since
	// CONNECT comes first); the CONNECT and whatever follows are held. Call Connect for the
	// credentials, then PendingConnect and Resume with the resulting policy (or close the
	// connection on a denial).
	NeedAuth
	// Close: close the connection. Out holds the allowed packets that came before the cause and
	// may be forwarded first (from FromBroker it may end with a DISCONNECT for the client, which
	// must be delivered before the close); Reason and Details say why.
	Close
	// Closing: the client broke the MQTT 5 protocol and must be told why before the close, but
	// the glue can write to the client only in the broker's direction. Forward Out (it ends with
	// a PINGREQ); the session drops every later client byte, answers the broker's PINGRESP with a
	// DISCONNECT carrying the specification's reason code and then returns Close from
	// FromBroker. The glue should close anyway if the broker has not answered within a few
	// seconds. Reason and Details say why.
	Closing
	// Refusing: the CONNECT is refused and the client must get a CONNACK "not authorized" before
	// the close, but the glue can write to the client only in the broker's direction. Out is the
	// refusal CONNECT (see Session.Refuse): put it in place of the client's bytes (the paused
	// buffer) and let it go to the broker, which must answer it with a CONNACK; FromBroker turns
	// that CONNACK into the client's "not authorized" and returns Close. Later client bytes are
	// dropped (FromClient returns Refusing with no Out). The glue should close anyway if the
	// broker has not answered within a few seconds. Reason and Details say why.
	Refusing
)

var statusNames = [...]string{"Continue", "NeedAuth", "Close", "Closing", "Refusing"}

func (s Status) String() string { return enumName(statusNames[:], int(s), "Unknown") }

// Result is the outcome of one call. Out is valid until the next call on the session.
type Result struct {
	// Out replaces the input chunk. When Unchanged is true, Out is the input itself: nothing needs
	// rewriting (every packet in the chunk was complete and allowed, nothing held or injected).
	Out       []byte
	Unchanged bool
	Status    Status
	// Reason and Details, when Status is Close: an AWS disconnectReason and a sentence, e.g.
	// "CLIENT_ERROR", "protocol error: remaining length exceeds 4 bytes".
	Reason  string
	Details string
	// Limit, when Status is Close, Closing or Refusing because a packet broke one of
	// Options.Limits: the decision's reason (ReasonLimit, ReasonPayloadLimit, ReasonClientIDEmpty).
	Limit string
}

// ConnectInfo is what the CONNECT carried, for the authorizer event and logs. Its slices alias the
// session's copy of the CONNECT and stay valid for the session's life.
type ConnectInfo struct {
	Version     byte // 4 (MQTT 3.1.1) or 5
	ClientID    []byte
	Username    []byte
	HasUsername bool
	Password    []byte
	HasPassword bool
	KeepAlive   uint16
	CleanStart  bool
	// The Will message, when HasWill: its topic and flags.
	HasWill    bool
	WillTopic  []byte
	WillRetain bool
	WillQoS    byte
}
