package bench

// Result is the report of a run, as `edocgw bench --json` prints it.
type Result struct {
	Config  Echo    `json:"config"`
	Machine Machine `json:"machine"`
	// SendSeconds runs from the start to the last answer to a send;
	// ElapsedSeconds to the last delivery acknowledged (or the drain's end).
	SendSeconds        float64          `json:"sendSeconds"`
	ElapsedSeconds     float64          `json:"elapsedSeconds"`
	Documents          Documents        `json:"documents"`
	AcceptedPerSecond  float64          `json:"acceptedPerSecond"`
	Deliveries         Deliveries       `json:"deliveries"`
	DeliveredPerSecond float64          `json:"deliveredPerSecond"`
	BytesPerSecond     float64          `json:"bytesPerSecond"` // accepted bytes per second of sending
	Latency            Latency          `json:"latencyMs"`      // 202 received → the recipient's fetch complete
	SendLatency        Latency          `json:"sendLatencyMs"`  // POST → 202 (from the due time with Rate)
	Errors             map[string]int64 `json:"errors"`         // OPERATION:KIND → count
	Gateway            *Gateway         `json:"gateway,omitempty"`
	Writer             *Writer          `json:"writer,omitempty"` // the embedded store's
	Bench              BenchCost        `json:"bench"`
	Limit              *Limit           `json:"limit,omitempty"`
}

// Echo is the run's configuration.
type Echo struct {
	Mode        string  `json:"mode"`
	URL         string  `json:"url"`
	Instances   int     `json:"instances"` // gateway processes driven
	Backend     string  `json:"backend,omitempty"`
	Agencies    int     `json:"agencies"`
	Mix         Mix     `json:"mix"`
	Duration    string  `json:"duration,omitempty"`
	Documents   int     `json:"documents,omitempty"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate,omitempty"`
	Recipients  int     `json:"recipients"`
	Pullers     int     `json:"pullers"`
	Poll        string  `json:"poll"`
	Ack         string  `json:"ack"`   // each (one request per delivery) or page
	Fetch       string  `json:"fetch"` // each (GET /v1/deliveries/{id}), page (POST /v1/inbox/fetch of ids) or next (of a limit)
	Ahead       int     `json:"ahead"`
	Seed        uint64  `json:"seed"`
}

// Documents counts the sends.
type Documents struct {
	Sent     int64            `json:"sent"`
	Accepted int64            `json:"accepted"`
	Rejected map[string]int64 `json:"rejected"` // by problem type (http-STATUS if untyped)
	Failed   int64            `json:"failed"`   // no answer: connection or timeout
	// Missed counts arrivals (Rate) due while every sender was busy.
	Missed        int64       `json:"missedArrivals"`
	BytesAccepted int64       `json:"bytesAccepted"`
	Sizes         []SizeStats `json:"sizes"`
}

// SizeStats is what was signed of one size class.
type SizeStats struct {
	Size      string `json:"size"`
	Signed    int64  `json:"signed"`
	MeanBytes int64  `json:"meanBytes"`
}

// Deliveries counts the recipients' side.
type Deliveries struct {
	// Expected: pull deliveries listed by the receipts of accepted documents.
	Expected int64 `json:"expected"`
	Fetched  int64 `json:"fetched"`
	// Delivered: deliveries of this run's documents fetched and acknowledged.
	Delivered    int64 `json:"delivered"`
	BytesFetched int64 `json:"bytesFetched"`
	// Unmatched: deliveries in the inboxes of no document whose 202 this
	// run saw (earlier runs, lost answers); fetched and acknowledged too.
	Unmatched int64 `json:"unmatched"`
	// BeforeReceipt: fetched before the sender had the 202 (latency 0).
	BeforeReceipt int64 `json:"fetchedBeforeReceipt"`
}

// Gateway is the gateway process's cost during the timed part.
type Gateway struct {
	Source string `json:"source"` // self (in-process), proc (/proc/PID) or metrics (/metrics)
	PID    int    `json:"pid,omitempty"`
	// IncludesBench: the figures are of one process holding the gateway
	// and the load generator (senders, pullers, TLS clients).
	IncludesBench    bool    `json:"includesBench"`
	CPUSeconds       float64 `json:"cpuSeconds"`
	CPUPerDocumentMs float64 `json:"cpuPerDocumentMs"`
	PeakRSSBytes     int64   `json:"peakRssBytes"`
	// PeakRSSFrom: "VmHWM since the start" (reset then), "VmHWM since the
	// process started", or "sampled every second".
	PeakRSSFrom   string `json:"peakRssFrom"`
	HeapPeakBytes int64  `json:"heapBytesPeak,omitempty"` // Go heap objects, sampled every second
	Error         string `json:"error,omitempty"`
}

// Writer is what the embedded store's single writer did during the timed
// part, from the gateway's /metrics: every write runs through it in turn,
// so a BusyFraction near 1 (per gateway) means writes queued behind it.
type Writer struct {
	Groups             int64   `json:"groups"` // batches, one transaction each
	OperationsPerGroup float64 `json:"operationsPerGroup"`
	BusySeconds        float64 `json:"busySeconds"` // BEGIN to COMMIT, wall time
	BusyFraction       float64 `json:"busyFraction"`
	CommitSeconds      float64 `json:"commitSeconds"` // of the busy time, in COMMIT
}

// BenchCost is what the load generator itself spent.
type BenchCost struct {
	// CPUSeconds of this process during the timed part, when the gateway
	// runs in another.
	CPUSeconds         float64 `json:"cpuSeconds,omitempty"`
	SignedBefore       int64   `json:"signedBeforeRun"`
	SignCPUBefore      float64 `json:"signCpuSecondsBeforeRun"`
	SignedDuring       int64   `json:"signedDuringRun"`
	SignCPUDuring      float64 `json:"signCpuSecondsDuringRun"`
	PrepareSeconds     float64 `json:"prepareSeconds"`
	SpoolBytesAtFinish int64   `json:"spoolBytes"`
	// Connections the generator opened in the whole run: about one per
	// sender and puller when the gateway keeps them open.
	Connections int64 `json:"connections,omitempty"`
}
