package routing

// SetMaxFetchBytes lowers FetchMany's byte budget until the returned
// function restores it.
func SetMaxFetchBytes(n int64) (restore func()) {
	was := maxFetchBytes
	maxFetchBytes = n
	return func() { maxFetchBytes = was }
}
