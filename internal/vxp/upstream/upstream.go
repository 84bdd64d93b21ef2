package upstream

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/internal/vxp/vxpclient"
	"github.com/edocgw/edocgw/routing"
)

// sealedPrefix marks a sealed secret in routing.Peer.Token.
const sealedPrefix = "vxp-sealed:"

// SealSecret returns what a vxp peer's Token holds: secret sealed under
// key for systemID.
func SealSecret(key *vxp.SecretKey, systemID, secret string) (string, error) {
	if secret == "" {
		return "", errors.New("upstream: empty secret")
	}
	b, err := key.Seal(systemID, secret)
	if err != nil {
		return "", err
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// openSecret opens a vxp peer's sealed Token.
func openSecret(key *vxp.SecretKey, p routing.Peer) (string, error) {
	if key == nil {
		return "", errors.New("upstream: no VXP key to open the secret with")
	}
	s, ok := strings.CutPrefix(p.Token, sealedPrefix)
	if !ok {
		return "", fmt.Errorf("upstream: peer %s: its secret is not sealed", p.Name)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("upstream: peer %s: sealed secret: %w", p.Name, err)
	}
	secret, err := key.Open(p.SystemID, b)
	if err != nil {
		return "", fmt.Errorf("upstream: peer %s: %w", p.Name, err)
	}
	return secret, nil
}

// Config is what the Forwarder and the Puller share.
type Config struct {
	// Key opens peers' sealed secrets.
	Key *vxp.SecretKey
	// MaxPacket is the largest packet sent or fetched (default 64 MiB).
	MaxPacket int64
	// Now gives the signed timestamp of each request (default time.Now).
	Now func() time.Time
}

func (c *Config) maxPacket() int64 {
	if c.MaxPacket <= 0 {
		return 64 << 20
	}
	return c.MaxPacket
}

// client returns a new SDK client for p: a fresh timestamp and header map
// per request (§11.2), so no key of one call leaks into the next.
func (c *Config) client(hc *http.Client, p routing.Peer) (*vxpclient.Client, error) {
	secret, err := openSecret(c.Key, p)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	cl := vxpclient.New(strings.TrimRight(p.URL, "/"), p.SystemID, secret, hc, now().In(vxp.ICT))
	// getEdoc's base64 of the largest packet, with the envelope around it.
	cl.MaxResponse = c.maxPacket()/3*4 + 64<<10
	return cl, nil
}

// headers is a call's caller JSON.
func headers(kv ...string) string {
	m := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		m = append(m, string(k)+":"+string(v))
	}
	return "{" + strings.Join(m, ",") + "}"
}

// Forwarder sends packets routed to a vxp peer with sendEdoc: the
// routing.Upstream of routing.PeerVXP.
type Forwarder struct{ Config }

var _ routing.Upstream = (*Forwarder)(nil)

// refusedCodes are the ErrorCodes that refuse the packet itself (edocgw's
// catalogue, internal/vxp): no retry makes them pass. Any other failure,
// unknown codes of another axis included, is retried until the delivery's
// horizon.
var refusedCodes = map[vxp.Code]bool{
	vxp.CodeFromNotRegistered: true, vxp.CodeHashFile: true, vxp.CodeBody: true, vxp.CodeInvalidEdxml: true,
	vxp.CodeSignature: true, vxp.CodeSignatureRequired: true, vxp.CodeTooLarge: true, vxp.CodeNoRoute: true,
	vxp.CodeForbidden: true,
}

// Forward streams the original, unchanged, as the SDK sends it: the raw bytes
// and a CRLF, hash-file in the SDK's unpadded hex, from = the sending
// agency (a child registered under the hub's systemId, §6), messagetype
// edoc or status. It returns the axis's DocId.
func (f *Forwarder) Forward(ctx context.Context, hc *http.Client, p routing.Peer, doc *routing.Document, original io.Reader) (string, error) {
	cl, err := f.client(hc, p)
	if err != nil {
		return "", routing.Permanent(err)
	}
	mt := "edoc"
	if doc.Kind == envelope.KindStatus {
		mt = "status"
	}
	// The original's name in the archive is its SHA-256: hash-file needs
	// no pass over it, and it streams (the archive checks it as it reads).
	r, err := cl.SendEdocStream(ctx, headers("from", string(doc.From), "servicetype", "eDoc", "messagetype", mt), doc.Digest[:], original, doc.Size)
	if err != nil {
		return "", fmt.Errorf("sendEdoc to %s: %w", p.Name, err)
	}
	switch code := vxp.Code(r.ErrorCode); {
	case r.OK():
		return r.DocID, nil
	case code == vxp.CodeDuplicate && r.DocID != "":
		// The axis has it already (an earlier attempt whose answer was lost).
		return r.DocID, nil
	case refusedCodes[code]:
		return "", routing.Permanent(fmt.Errorf("%s refused it: ErrorCode %s %s", p.Name, r.ErrorCode, r.ErrorDesc))
	default:
		return "", fmt.Errorf("%s answered HTTP %d, ErrorCode %s %s", p.Name, r.HTTPStatus, r.ErrorCode, r.ErrorDesc)
	}
}
