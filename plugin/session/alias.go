package session

// aliases is the MQTT 5.0 topic alias mapping of one direction: alias → topic, as set by the
// sender, and whether the receiver learned it (false when the PUBLISH that set it was dropped).
type aliases struct {
	max     uint16 // the receiver's Topic Alias Maximum
	entries []aliasEntry
}

type aliasEntry struct {
	topic     []byte
	set       bool
	peerKnows bool
}

// set records alias → topic (copied); the receiver does not know it until forwardPublish says so.
// alias is in 1..max.
func (t *aliases) set(alias uint16, topic []byte) {
	if int(alias) > len(t.entries) {
		n := int(alias)
		if c := 2 * len(t.entries); c > n {
			n = min(c, int(t.max))
		}
		e := make([]aliasEntry, n)
		copy(e, t.entries)
		t.entries = e
	}
	e := &t.entries[alias-1]
	e.topic = append(e.topic[:0], topic...)
	e.set = true
	e.peerKnows = false
}

// get returns the topic of alias, or nil when the sender never set it.
func (t *aliases) get(alias uint16) []byte {
	if int(alias) > len(t.entries) || !t.entries[alias-1].set {
		return nil
	}
	return t.entries[alias-1].topic
}
