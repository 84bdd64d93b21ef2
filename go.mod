module github.com/edocgw/edocgw

go 1.26.8

require (
	github.com/beevik/etree v1.8.0 // indirect
	github.com/jonboulle/clockwork v0.5.0 // indirect
	github.com/miekg/pkcs11 v1.1.2 // indirect
	github.com/russellhaering/goxmldsig v1.6.1 // indirect
	golang.org/x/crypto v0.58.0 // indirect
)
