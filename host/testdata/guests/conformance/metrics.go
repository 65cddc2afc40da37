package main

import (
	"strings"
)

func metricAction() string {
	var b strings.Builder
	w := func(k string, v uint32) { b.WriteString(k + "=" + u32(v) + " ") }
	c, s := defineMetric(0, "c1")
	w("c.id", c)
	w("c.def", s)
	w("c.inc5", proxyIncrementMetric(c, 5))
	w("c.inc0", proxyIncrementMetric(c, 0))
	w("c.incneg", proxyIncrementMetric(c, -1))
	w("c.rec3", proxyRecordMetric(c, 3))
	v, s := getMetric(c)
	w("c.get", s)
	w("c.val", uint32(v))
	c2, _ := defineMetric(0, "c1")
	w("c2.id", c2)
	proxyIncrementMetric(c2, 1)
	g, _ := defineMetric(1, "g1")
	w("g.id", g)
	w("g.dec", proxyIncrementMetric(g, -2))
	w("g.rec", proxyRecordMetric(g, 7))
	w("g.dec3", proxyIncrementMetric(g, -3))
	v, s = getMetric(g)
	w("g.get", s)
	w("g.val", uint32(v))
	h, _ := defineMetric(2, "h1")
	w("h.id", h)
	w("h.rec", proxyRecordMetric(h, 10))
	w("h.inc", proxyIncrementMetric(h, 1))
	_, s = getMetric(h)
	w("h.get", s)
	_, s = defineMetric(3, "bad")
	w("bad.def", s)
	_, s = getMetric(4000)
	w("unknown.get", s)
	w("unknown.inc", proxyIncrementMetric(4000, 1))
	w("unknown.rec", proxyRecordMetric(4000, 1))
	return strings.TrimSpace(b.String())
}

func propsAction() string {
	list, _ := header(0, "x-props")
	return props(list)
}

// props reads each of the comma-separated property paths in list.
func props(list string) string {
	var b strings.Builder
	for _, p := range strings.Split(list, ",") {
		// Segments are separated by "." or, when p has a "|", by "|"
		// (so a segment can hold a ".").
		sep := "."
		if strings.Contains(p, "|") {
			sep = "|"
		}
		v, s := getProperty(strings.ReplaceAll(p, sep, "\x00"))
		b.WriteString(p + "=" + u32(s) + ":" + hexOrText(v) + "\n")
	}
	return b.String()
}

func hexOrText(v []byte) string {
	for _, c := range v {
		if c < 0x20 || c > 0x7e {
			const hex = "0123456789abcdef"
			out := make([]byte, 0, 2*len(v)+2)
			out = append(out, "0x"...)
			for _, c := range v {
				out = append(out, hex[c>>4], hex[c&15])
			}
			return string(out)
		}
	}
	return string(v)
}
