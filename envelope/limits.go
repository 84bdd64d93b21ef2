package envelope

// Limits bound what Parse accepts. A zero field takes its default.
type Limits struct {
	// MaxBytes is the largest packet, attachments included.
	MaxBytes int64
	// MaxDepth is the deepest element nesting (edXML itself needs 7).
	MaxDepth int
	// MaxElements is the most elements in the packet.
	MaxElements int
	// MaxAttributes is the most attributes (namespace declarations
	// included) on one element.
	MaxAttributes int
	// MaxText is the longest text of an element other than an attachment
	// payload, and the longest tag, comment or processing instruction.
	// Attachment payloads longer than this are not read into memory.
	MaxText int
	// MaxAttachments is the most attachments and manifest entries.
	MaxAttachments int
}

// DefaultLimits are the limits used when a field of Limits is zero.
var DefaultLimits = Limits{
	MaxBytes:       1 << 30, // 1 GiB
	MaxDepth:       32,
	MaxElements:    20000,
	MaxAttributes:  32,
	MaxText:        64 << 10,
	MaxAttachments: 1000,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxBytes > 0 {
		d.MaxBytes = l.MaxBytes
	}
	if l.MaxDepth > 0 {
		d.MaxDepth = l.MaxDepth
	}
	if l.MaxElements > 0 {
		d.MaxElements = l.MaxElements
	}
	if l.MaxAttributes > 0 {
		d.MaxAttributes = l.MaxAttributes
	}
	if l.MaxText > 0 {
		d.MaxText = l.MaxText
	}
	if l.MaxAttachments > 0 {
		d.MaxAttachments = l.MaxAttachments
	}
	return d
}
