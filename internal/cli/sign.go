package cli

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/signing"
	"github.com/edocgw/edocgw/signing/pkcs11key"
	"github.com/edocgw/edocgw/signing/revocation"
)

func runSign(args []string, env Env) error {
	f := newFlags("sign", "(--key K.pem | --pkcs11-module M --pkcs11-label L) --cert C.pem [-o OUT] IN", env)
	keyFile := f.String("key", "", "RSA private key, PEM (PKCS#8 or PKCS#1)")
	certFile := f.String("cert", "", "signer certificate, PEM; further certificates in the file (intermediates) go into KeyInfo too")
	out := f.String("o", "", "write the signed packet to OUT instead of standard output")
	inclusive := f.Bool("inclusive", false, "inclusive C14N 1.0 instead of exclusive C14N")
	module := f.String("pkcs11-module", "", "PKCS#11 library of the token or HSM")
	token := f.String("pkcs11-token", "", "token label (default: the first token)")
	label := f.String("pkcs11-label", "", "label of the private key on the token")
	pinFile := f.String("pkcs11-pin-file", "", "file holding the user PIN (default: $EDOCGW_PKCS11_PIN)")
	arg, err := f.parseOne(args, "exactly one IN")
	if err != nil {
		return err
	}
	if (*keyFile == "") == (*module == "") {
		return usagef("sign: give either --key or --pkcs11-module")
	}
	var key crypto.Signer
	var certs []*x509.Certificate
	if *certFile != "" {
		if certs, err = readCerts(*certFile); err != nil {
			return err
		}
	}
	if *keyFile != "" {
		if key, err = readKey(*keyFile); err != nil {
			return err
		}
	} else {
		pin := os.Getenv("EDOCGW_PKCS11_PIN")
		if *pinFile != "" {
			b, err := os.ReadFile(*pinFile)
			if err != nil {
				return err
			}
			pin = strings.TrimSpace(string(b))
		}
		k, err := pkcs11key.Open(pkcs11key.Config{Module: *module, TokenLabel: *token, PIN: pin, KeyLabel: *label})
		if err != nil {
			return err
		}
		defer k.Close()
		key = k
		if len(certs) == 0 && k.Certificate != nil {
			certs = []*x509.Certificate{k.Certificate}
		}
	}
	if len(certs) == 0 {
		return usagef("sign: --cert is required (or a certificate on the token under the key's label)")
	}
	in, size, err := openSized(arg)
	if err != nil {
		return err
	}
	defer in.Close()
	var w io.Writer = env.Stdout
	var file *os.File
	if *out != "" {
		if file, err = os.Create(*out); err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	s := &signing.Signer{Key: key, Certificates: certs, Inclusive: *inclusive}
	if err := s.Sign(w, in, size); err != nil {
		if file != nil {
			os.Remove(*out)
		}
		return err
	}
	if file != nil {
		return file.Close()
	}
	return nil
}

func readCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return certs, nil
}

func readKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s: no PEM private key", path)
		}
		switch blk.Type {
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%s: %T is not an RSA key", path, k)
			}
			return rk, nil
		}
	}
}

type verifyJSON struct {
	File       string   `json:"file"`
	Valid      bool     `json:"valid"`
	Signer     string   `json:"signer,omitempty"`
	Issuer     string   `json:"issuer,omitempty"`
	Agency     string   `json:"agency,omitempty"`
	Binding    string   `json:"binding,omitempty"`
	Signature  string   `json:"signatureMethod,omitempty"`
	Digest     string   `json:"digestMethod,omitempty"`
	C14N       string   `json:"canonicalizationMethod,omitempty"`
	Transforms []string `json:"transforms,omitempty"`
	Revocation string   `json:"revocation,omitempty"`
	Legacy     []string `json:"legacy,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	Error      string   `json:"error,omitempty"`
	Reason     string   `json:"reason,omitempty"`
}

func runVerify(args []string, env Env) error {
	f := newFlags("verify", "--trust CA.pem [--crl F]… [--ocsp] [--directory FILE | --data DIR] [--json] IN", env)
	var trust, crls multi
	f.Var(&trust, "trust", "trust anchor certificates, PEM (repeatable)")
	f.Var(&crls, "crl", "CRL file, PEM or DER (repeatable)")
	ocsp := f.Bool("ocsp", false, "ask the certificate's OCSP responder")
	fetch := f.Bool("fetch-crl", false, "download CRLs from the certificate's distribution points")
	soft := f.Bool("soft-fail", false, "accept an unknown revocation status with a warning (default: refuse)")
	dirFile := f.String("directory", "", "agency directory (CSV or JSON) that binds certificates to agencies")
	data := f.String("data", "", "take the agency directory from this embedded data folder")
	sha1 := f.Bool("allow-sha1", false, "accept RSA-SHA1 and SHA-1 digests from legacy senders (reported)")
	asJSON := f.Bool("json", false, "print the result as JSON")
	arg, err := f.parseOne(args, "exactly one IN")
	if err != nil {
		return err
	}
	if len(trust) == 0 {
		return usagef("verify: --trust is required")
	}
	roots, err := certPool(trust)
	if err != nil {
		return err
	}
	v := &signing.Verifier{Roots: roots, AllowSHA1: *sha1, Now: env.Now}
	if *soft {
		v.RevocationPolicy = signing.SoftFail
	}
	if len(crls) > 0 || *ocsp || *fetch {
		rc, err := revocation.New(revocation.Config{CRLFiles: crls, OCSP: *ocsp, FetchCRLs: *fetch, Now: env.Now})
		if err != nil {
			return err
		}
		v.Revocation = rc
	}
	switch {
	case *dirFile != "" && *data != "":
		return usagef("verify: --directory and --data exclude each other")
	case *dirFile != "":
		d, err := loadDirectoryFile(*dirFile)
		if err != nil {
			return err
		}
		v.Directory = d
	case *data != "":
		d, err := dataDirectory(*data, env)
		if err != nil {
			return err
		}
		v.Directory = d
	}
	in, size, err := openSized(arg)
	if err != nil {
		return err
	}
	defer in.Close()
	res, verr := v.VerifyReaderAt(context.Background(), in, size)
	rec := verifyJSON{File: arg, Valid: verr == nil, Agency: string(res.Agency), Binding: res.Binding,
		Signature: res.SignatureMethod, Digest: res.DigestMethod, C14N: res.CanonicalizationMethod,
		Transforms: res.Transforms, Legacy: res.Legacy, Warnings: res.Warnings}
	if res.Signer != nil {
		rec.Signer = res.Signer.Subject.String()
		rec.Issuer = res.Signer.Issuer.String()
	}
	if res.Revocation != nil {
		rec.Revocation = res.Revocation.State.String() + " (" + res.Revocation.Source + ")"
	}
	if verr != nil {
		rec.Error = verr.Error()
		var se *signing.Error
		if errors.As(verr, &se) {
			rec.Reason = se.Err.Error()
		}
	}
	switch {
	case *asJSON:
		if err := writeJSONLine(env.Stdout, rec); err != nil {
			return err
		}
	case verr != nil:
		fmt.Fprintf(env.Stdout, "INVALID: %v\n", verr)
	default:
		name := res.Signer.Subject.CommonName
		if name == "" {
			name = res.Signer.Subject.String()
		}
		fmt.Fprintf(env.Stdout, "VALID signer=%s agency=%s binding=%s\n", quoteIfSpace(name), res.Agency, res.Binding)
		for _, l := range res.Legacy {
			fmt.Fprintf(env.Stderr, "legacy: %s\n", l)
		}
		for _, w := range res.Warnings {
			fmt.Fprintf(env.Stderr, "warning: %s\n", w)
		}
	}
	if verr != nil {
		return &silentError{ExitInput}
	}
	return nil
}

func quoteIfSpace(s string) string {
	if strings.ContainsAny(s, " \t\"") {
		return strconv.Quote(s)
	}
	return s
}

// loadDirectoryFile reads an agency directory from a CSV or JSON file.
func loadDirectoryFile(path string) (*agencyids.Directory, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var rows []agencyids.Agency
	if strings.HasSuffix(strings.ToLower(path), ".csv") {
		rows, err = agencyids.ImportCSV(file)
	} else {
		rows, err = agencyids.ImportJSON(file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d := agencyids.NewDirectory()
	if err := d.Load(rows); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// dataDirectory loads the agency directory of the embedded store in data.
func dataDirectory(data string, env Env) (*agencyids.Directory, error) {
	ctx := context.Background()
	url := ""
	s, err := storeFlags{data: &data, url: &url, notes: env.Stderr}.open(ctx, store.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Directory(ctx)
}

// openSized opens a file and returns its size, for readers at offsets.
func openSized(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}
