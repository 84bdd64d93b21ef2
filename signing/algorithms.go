package signing

import (
	"crypto"
	_ "crypto/sha1" // SHA-1, for legacy senders only
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Algorithm URIs of XMLDSig.
const (
	DSigNamespace = "http://www.w3.org/2000/09/xmldsig#"

	C14N10    = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	ExcC14N10 = "http://www.w3.org/2001/10/xml-exc-c14n#"
	// ExcC14NVNPT is the invalid exclusive-C14N URI written by the VNPT
	// library in national-axis SDK samples; read as ExcC14N10.
	ExcC14NVNPT = "http://www.w3.org/TR/xml-exc-c14n#"
	Enveloped   = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

	RSASHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	RSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	RSASHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	RSASHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"

	SHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
)

var signatureMethods = map[string]crypto.Hash{
	RSASHA1:   crypto.SHA1,
	RSASHA256: crypto.SHA256,
	RSASHA384: crypto.SHA384,
	RSASHA512: crypto.SHA512,
}

var digestMethods = map[string]crypto.Hash{
	SHA1:   crypto.SHA1,
	SHA256: crypto.SHA256,
	SHA384: crypto.SHA384,
	SHA512: crypto.SHA512,
}
