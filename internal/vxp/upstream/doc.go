// Package upstream makes edocgw a client of the national axis: a peer hub
// of kind vxp (routing.PeerVXP) is reached with the SDK's protocol
// (../shared/spec/vxp-protocol.md §11.2), as a provincial or ministry hub
// built on the SDK would reach it.
//
// Forwarder is the routing.Upstream for the kind: the hub's delivery
// worker hands it a document or status packet routed to the peer, and it
// sends the original with sendEdoc, from the sending agency. Puller
// fetches what the axis holds for the hub's agencies (getReceivedEdocList
// → getEdoc → updateStatus done/fail) and feeds each packet into the hub's
// acceptance pipeline as received from the peer: the same validation,
// signature policy, archive, audit and routing as any other packet.
//
// The system's secret is stored sealed (SealSecret) under the key that
// seals the secrets of the systems the hub serves (vxp.SecretKey).
package upstream
