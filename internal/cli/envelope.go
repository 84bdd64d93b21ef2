package cli

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
)

type validateJSON struct {
	File     string            `json:"file"`
	Valid    bool              `json:"valid"`
	Kind     string            `json:"kind,omitempty"`
	From     string            `json:"from,omitempty"`
	To       []string          `json:"to,omitempty"`
	Document string            `json:"documentId,omitempty"`
	Errors   []*envelope.Error `json:"errors,omitempty"`
	Warnings []*envelope.Error `json:"warnings,omitempty"`
}

func runEnvelopeValidate(args []string, env Env) error {
	f := newFlags("envelope validate", "[--strict] [--json] [-v] FILE…", env)
	strict := f.Bool("strict", false, "judge as a packet the gateway produces or a local system sends: deviations seen in real packets are errors, not warnings")
	asJSON := f.Bool("json", false, "print one JSON record per file, with every error and warning")
	verbose := f.Bool("v", false, "list warnings on stderr")
	maxBytes := f.Int64("max-bytes", envelope.DefaultLimits.MaxBytes, "largest packet accepted")
	files, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("envelope validate: no FILE given")
	}
	v := envelope.Validator{Lenient: !*strict, Now: env.now}
	bad := 0
	for _, name := range files {
		rec := validateFile(name, v, envelope.Limits{MaxBytes: *maxBytes})
		if !rec.Valid {
			bad++
		}
		switch {
		case *asJSON:
			if err := writeJSONLine(env.Stdout, rec); err != nil {
				return err
			}
		case rec.Valid:
			fmt.Fprintf(env.Stdout, "OK %s %s %s -> %s\n", name, rec.Kind, rec.From, strings.Join(rec.To, ","))
		default:
			fmt.Fprintf(env.Stdout, "INVALID %s: %v\n", name, rec.Errors[0])
		}
		if *verbose && !*asJSON {
			for _, w := range rec.Warnings {
				fmt.Fprintf(env.Stderr, "warning %s: %v\n", name, w)
			}
		}
	}
	if bad > 0 {
		return &silentError{ExitInput}
	}
	return nil
}

func validateFile(name string, v envelope.Validator, lim envelope.Limits) validateJSON {
	rec := validateJSON{File: name}
	fail := func(err error) validateJSON {
		e := envelope.First(err)
		if e == nil {
			e = &envelope.Error{Err: err, Msg: err.Error()}
		}
		rec.Errors = append(rec.Errors, e)
		return rec
	}
	f, size, err := openSized(name)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	p, err := envelope.ParseReaderAt(f, size, envelope.Options{Limits: lim})
	if err != nil {
		return fail(err)
	}
	rec.Kind = p.Kind().String()
	rec.From = string(p.From().OrganID)
	for _, c := range p.Recipients() {
		rec.To = append(rec.To, string(c))
	}
	rec.Document = p.DocumentID()
	warns, err := v.Validate(p)
	rec.Warnings = warns
	if err != nil {
		var ps envelope.Problems
		if errors.As(err, &ps) {
			rec.Errors = ps
		} else {
			return fail(err)
		}
		return rec
	}
	rec.Valid = true
	return rec
}

// orgFlag parses CODE or CODE=NAME.
func orgFlag(s string) (envelope.Organization, error) {
	code, name, _ := strings.Cut(s, "=")
	c, err := agencyids.Parse(strings.TrimSpace(code))
	if err != nil {
		return envelope.Organization{}, err
	}
	return envelope.Organization{OrganID: c, OrganName: strings.TrimSpace(name)}, nil
}

func atoiPtr(flagName, s string) (*int, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return nil, usagef("--%s %q is not a whole number", flagName, s)
	}
	return &v, nil
}

func runEnvelopeBuild(args []string, env Env) error {
	f := newFlags("envelope build", "--from CODE[=NAME] (--to CODE[=NAME]… --number N --notation X --subject S --attach FILE… | --status NN --doc-id ID --org CODE) [-o FILE]", env)
	var to, attach, places multi
	from := f.String("from", "", "sending agency, CODE or CODE=NAME (required)")
	f.Var(&to, "to", "recipient agency, CODE or CODE=NAME (repeatable; document)")
	out := f.String("o", "", "write the packet to FILE instead of standard output")
	// document
	number := f.String("number", "", "document number (số)")
	notation := f.String("notation", "", "document notation (ký hiệu)")
	subject := f.String("subject", "", "abstract (trích yếu)")
	content := f.String("content", "", "short summary")
	typeName := f.String("type-name", "Công văn", "document type name")
	docType := f.String("type", "", "DocumentType/Type (1 or 2)")
	place := f.String("place", "", "place of promulgation")
	date := f.String("date", "", "promulgation date yyyy/MM/dd (default today)")
	due := f.String("due", "", "due date yyyy/MM/dd")
	signer := f.String("signer", "", "signer's full name")
	position := f.String("position", "", "signer's position")
	competence := f.String("competence", "", "signing authority, e.g. KT. BỘ TRƯỞNG")
	priority := f.String("priority", "", "urgency 0–4")
	steering := f.String("steering", "", "SteeringType")
	docID := f.String("document-id", "", "DocumentId (default From,date,number/notation)")
	f.Var(&places, "to-place", "free-text recipient of the Nơi nhận block (repeatable)")
	f.Var(&attach, "attach", "attach FILE (repeatable); its content type is guessed from its name, or give FILE=TYPE")
	// status
	status := f.String("status", "", "build a status packet with this code (01–06, 13, 15, 16)")
	respDoc := f.String("doc-id", "", "status: DocumentId of the document reported on")
	respOrg := f.String("org", "", "status: the other party's agency code")
	respCode := f.String("code", "", "status: number/notation of the document reported on")
	respDate := f.String("doc-date", "", "status: its promulgation date yyyy/MM/dd")
	desc := f.String("description", "", "status: description or reason")
	staff := f.String("staff", "", "status: clerk's name")
	dept := f.String("department", "", "status: clerk's department")
	if err := f.parseNone(args); err != nil {
		return err
	}
	if *from == "" {
		return usagef("envelope build: --from is required")
	}
	fromOrg, err := orgFlag(*from)
	if err != nil {
		return usagef("--from: %v", err)
	}
	b := envelope.Builder{Now: env.Now}
	var p *envelope.Packet
	if *status != "" {
		code, err := strconv.Atoi(*status)
		if err != nil {
			return usagef("--status %q is not a status code", *status)
		}
		var rd envelope.Date
		if *respDate != "" {
			if rd, _, err = envelope.ParseDate(*respDate); err != nil {
				return usagef("--doc-date: %v", err)
			}
		}
		p, err = b.Status(envelope.StatusHeader{
			From:        fromOrg,
			ResponseFor: envelope.ResponseFor{OrganID: agencyids.Code(*respOrg), Code: *respCode, PromulgationDate: rd, DocumentID: *respDoc},
			Staff:       envelope.StaffInfo{Department: *dept, Staff: *staff},
			Code:        envelope.StatusCode(code),
			Description: *desc,
		})
		if err != nil {
			return err
		}
	} else {
		h := envelope.DocumentHeader{
			From:         fromOrg,
			DocumentID:   *docID,
			Code:         envelope.Code{Number: *number, Notation: *notation},
			Promulgation: envelope.PromulgationInfo{Place: *place},
			DocumentType: envelope.DocumentType{TypeName: *typeName},
			Subject:      *subject,
			Content:      *content,
			Signer:       envelope.SignerInfo{Competence: *competence, Position: *position, FullName: *signer},
			ToPlaces:     places,
		}
		for _, t := range to {
			o, err := orgFlag(t)
			if err != nil {
				return usagef("--to: %v", err)
			}
			h.To = append(h.To, o)
		}
		if *date != "" {
			if h.Promulgation.Date, _, err = envelope.ParseDate(*date); err != nil {
				return usagef("--date: %v", err)
			}
		}
		if *due != "" {
			if h.DueDate, _, err = envelope.ParseDate(*due); err != nil {
				return usagef("--due: %v", err)
			}
		}
		if h.DocumentType.Type, err = atoiPtr("type", *docType); err != nil {
			return err
		}
		if h.SteeringType, err = atoiPtr("steering", *steering); err != nil {
			return err
		}
		pr, err := atoiPtr("priority", *priority)
		if err != nil {
			return err
		}
		if pr != nil {
			p := envelope.Priority(*pr)
			h.OtherInfo = &envelope.OtherInfo{Priority: &p}
		}
		var atts []*envelope.Attachment
		for _, a := range attach {
			path, ctype, _ := strings.Cut(a, "=")
			if _, err := os.Stat(path); err != nil {
				return err
			}
			if ctype == "" {
				ctype = mime.TypeByExtension(strings.ToLower(filepath.Ext(path)))
				if i := strings.IndexByte(ctype, ';'); i >= 0 {
					ctype = ctype[:i]
				}
				if ctype == "" {
					ctype = "application/octet-stream"
				}
			}
			atts = append(atts, envelope.NewAttachmentFile(filepath.Base(path), ctype, path))
		}
		if p, err = b.Document(h, nil, atts...); err != nil {
			return err
		}
	}
	var w io.Writer = env.Stdout
	if *out != "" {
		file, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	if err := envelope.Encode(w, p); err != nil {
		return err
	}
	if c, ok := w.(io.Closer); ok && *out != "" {
		return c.Close()
	}
	return nil
}
