package ui

// PlainErrorVI is lang.PlainError in Vietnamese, for the tests.
func PlainErrorVI(raw string) string { return lang("vi").PlainError(raw) }
