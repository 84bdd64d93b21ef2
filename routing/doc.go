// Package routing is the hub: it accepts packets (document and status),
// decides each recipient's route (local inbox, webhook push, or an upstream
// hub by the route table), keeps the delivery queue with its retries, dead
// letters and duplicate suppression, relays statuses and the recall, update
// and replacement flows, and records the trace.
//
// It is built by the hub issue (#4); docs/hub-plan.md says how. Nothing in
// this package is implemented yet.
package routing
