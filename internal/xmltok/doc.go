// Package xmltok is a streaming XML tokenizer that accepts exactly what
// encoding/xml's Decoder.RawToken accepts in strict mode, without its
// per-byte reads and per-token allocations. Like RawToken it does not
// check nesting or translate namespaces: its callers (signing/c14n,
// envelope, signing) do what they need of that themselves.
//
// Text and attribute values are decoded (the five predefined entities and
// character references, line ends normalized); names are split at their
// colon as encoding/xml does. Tokens refer to the Tokenizer's buffers and
// are valid until the next call of Next.
package xmltok
