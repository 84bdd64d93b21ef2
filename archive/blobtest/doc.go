// Package blobtest is the conformance suite of archive.BlobStore: every
// implementation's tests call Run with a constructor of fresh stores, and
// the same benchmarks and memory check.
//
// A store under test must also implement Backdoor, so the suite can tamper
// with stored bytes and see everything the storage holds, as someone with
// direct access to it would.
package blobtest
