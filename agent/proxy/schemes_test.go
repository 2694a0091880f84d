package proxy

import "crypto/tls"

// pkcs1Schemes is what a card that cannot do PSS offers (TLS 1.2 only).
var pkcs1Schemes = []tls.SignatureScheme{tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512}
