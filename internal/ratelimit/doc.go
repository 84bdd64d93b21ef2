// Package ratelimit keeps floods of failed authentications out of the
// audit log: the API and the SDK protocol audit a client address's first
// failures and count the rest (Refusals).
package ratelimit
