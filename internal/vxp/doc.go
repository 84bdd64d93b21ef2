// Package vxp is the server side of the national axis's SDK protocol
// (../shared/spec/vxp-protocol.md): document-management systems written
// for SDKVXP 2.0.x (the "XroadVnpt-*" HMAC scheme) send and receive through
// edocgw without a code change, only a new endpoint, systemId and secret.
//
// It is a second front door, not a second pipeline: sendEdoc runs the
// hub's acceptance pipeline (routing.Hub.Accept) as the sending agency,
// the received lists are the agencies' inboxes, getEdoc fetches a delivery
// and updateStatus done acknowledges it. The package declares the small
// interfaces it needs of the hub (Hub) and of the store (Store).
//
// A system (System) is a systemId with a secret and the member agencies
// registered under it: it sends only as those agencies and reads only
// their inboxes. Secrets are kept sealed with AES-256-GCM (SecretKey).
package vxp
