module github.com/edocgw/edocgw

go 1.26.8

require (
	github.com/beevik/etree v1.8.0
	github.com/miekg/pkcs11 v1.1.2
	github.com/russellhaering/goxmldsig v1.6.1
	golang.org/x/crypto v0.58.0
)

require github.com/jonboulle/clockwork v0.5.0 // indirect
