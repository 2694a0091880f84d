package vcard

import (
	"fmt"
	"slices"
	"strings"
)

// Summary describes the card for a person: serial, PIN and PUK tries, each key with its
// certificate's subject and validity, and the data objects present. It shows no secrets.
func (c *Card) Summary() string {
	var b strings.Builder
	c.mu.Lock()
	fmt.Fprintf(&b, "serial %d, firmware %d.%d.%d\n", c.st.serial, c.st.version[0], c.st.version[1], c.st.version[2])
	fmt.Fprintf(&b, "PIN tries left %d of %d, PUK tries left %d of %d, management key %v\n",
		c.st.pinTries, c.st.pinMax, c.st.pukTries, c.st.pukMax, c.st.mgmtAlg)
	var slots []Slot
	for s := range c.st.keys {
		slots = append(slots, s)
	}
	algs := make(map[Slot]Alg)
	for s, k := range c.st.keys {
		algs[s] = k.alg
	}
	var tags []uint32
	for t := range c.st.objects {
		tags = append(tags, t)
	}
	chuid := c.st.objects[TagCHUID]
	c.mu.Unlock()

	slices.Sort(slots)
	for _, s := range slots {
		fmt.Fprintf(&b, "slot %v: %v key", s, algs[s])
		if cert, err := c.Certificate(s); err == nil {
			fmt.Fprintf(&b, ", certificate %q (serialNumber %s) issued by %q, valid %s to %s",
				cert.Subject.CommonName, cert.Subject.SerialNumber, cert.Issuer.CommonName,
				cert.NotBefore.Format("2006-01-02"), cert.NotAfter.Format("2006-01-02"))
		} else {
			b.WriteString(", no certificate")
		}
		b.WriteString("\n")
	}
	if f, err := parseTLVs(chuid, 8); err == nil && len(f[0x34]) == 16 {
		fmt.Fprintf(&b, "CHUID: GUID %x, expires %s\n", f[0x34], f[0x35])
	}
	slices.Sort(tags)
	var names []string
	for _, t := range tags {
		names = append(names, fmt.Sprintf("%02X", t))
	}
	fmt.Fprintf(&b, "data objects: %s\n", strings.Join(names, " "))
	return b.String()
}
