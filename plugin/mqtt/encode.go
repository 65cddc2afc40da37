package mqtt

// Append appends the wire form of p to dst and returns the extended slice.
//
// version selects the MQTT 3.1.1 (V311, V31) or 5.0 (V5) layout; CONNECT uses its own
// ProtocolLevel instead (and version when ProtocolLevel is 0; ProtocolName defaults to "MQTT", or
// "MQIsdp" for level 3). Properties are written as they are (MQTT 5.0 only); TopicAlias is not
// consulted. In MQTT 5.0 the acknowledgements, DISCONNECT and AUTH use their shortest valid form:
// the reason code is left out when it is 0 and there are no properties.
//
// Append does not validate p: a packet from ReadPacket encodes to a packet that decodes to the same
// fields; a packet built by hand must respect the specification (e.g. QoS ≤ 2, strings < 64 KiB).
func (p *Packet) Append(dst []byte, version byte) []byte {
	if p.Type == Connect {
		if p.ProtocolLevel != 0 {
			version = p.ProtocolLevel
		}
	}
	v5 := version == V5
	start := len(dst)
	// Fixed header byte, then room for the longest remaining length; the body is moved down once its
	// size is known.
	dst = append(dst, p.header(), 0, 0, 0, 0)
	body := len(dst)
	switch p.Type {
	case Connect:
		dst = p.appendConnect(dst, version)
	case Connack:
		var f byte
		if p.SessionPresent {
			f = 1
		}
		dst = append(dst, f, p.ReasonCode)
		if v5 {
			dst = appendProps(dst, p.Properties)
		}
	case Publish:
		dst = AppendString(dst, p.Topic)
		if p.QoS > 0 {
			dst = append(dst, byte(p.PacketID>>8), byte(p.PacketID))
		}
		if v5 {
			dst = appendProps(dst, p.Properties)
		}
		dst = append(dst, p.Payload...)
	case Puback, Pubrec, Pubrel, Pubcomp:
		dst = append(dst, byte(p.PacketID>>8), byte(p.PacketID))
		if v5 && (p.ReasonCode != 0 || len(p.Properties) > 0) {
			dst = append(dst, p.ReasonCode)
			if len(p.Properties) > 0 {
				dst = appendProps(dst, p.Properties)
			}
		}
	case Subscribe, Unsubscribe, Suback, Unsuback:
		dst = append(dst, byte(p.PacketID>>8), byte(p.PacketID))
		if v5 {
			dst = appendProps(dst, p.Properties)
		}
		if p.Type != Unsuback || v5 {
			dst = append(dst, p.Payload...)
		}
	case Disconnect, Auth:
		if v5 && (p.ReasonCode != 0 || len(p.Properties) > 0) {
			dst = append(dst, p.ReasonCode)
			if len(p.Properties) > 0 {
				dst = appendProps(dst, p.Properties)
			}
		}
	}
	rl := len(dst) - body
	var tmp [4]byte
	k := len(AppendVarint(tmp[:0], rl))
	AppendVarint(dst[start+1:start+1], rl)
	if k < 4 {
		copy(dst[start+1+k:], dst[body:])
		dst = dst[:len(dst)-(4-k)]
	}
	return dst
}

func (p *Packet) header() byte {
	h := byte(p.Type) << 4
	switch p.Type {
	case Publish:
		h |= p.QoS << 1
		if p.Dup {
			h |= 0x08
		}
		if p.Retain {
			h |= 1
		}
	case Pubrel, Subscribe, Unsubscribe:
		h |= 2
	}
	return h
}

func (p *Packet) appendConnect(dst []byte, level byte) []byte {
	name := p.ProtocolName
	if name == nil {
		if level == V31 {
			name = []byte("MQIsdp")
		} else {
			name = []byte("MQTT")
		}
	}
	dst = AppendString(dst, name)
	var f byte
	if p.CleanStart {
		f |= 0x02
	}
	if p.Will {
		f |= 0x04 | p.WillQoS<<3
		if p.WillRetain {
			f |= 0x20
		}
	}
	if p.HasPassword {
		f |= 0x40
	}
	if p.HasUsername {
		f |= 0x80
	}
	dst = append(dst, level, f, byte(p.KeepAlive>>8), byte(p.KeepAlive))
	v5 := level == V5
	if v5 {
		dst = appendProps(dst, p.Properties)
	}
	dst = AppendString(dst, p.ClientID)
	if p.Will {
		if v5 {
			dst = appendProps(dst, p.WillProperties)
		}
		dst = AppendString(dst, p.WillTopic)
		dst = AppendString(dst, p.WillPayload)
	}
	if p.HasUsername {
		dst = AppendString(dst, p.Username)
	}
	if p.HasPassword {
		dst = AppendString(dst, p.Password)
	}
	return dst
}

func appendProps(dst []byte, props Properties) []byte {
	return append(AppendVarint(dst, len(props)), props...)
}
