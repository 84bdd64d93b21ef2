package ui

import (
	"html/template"
	"net/http"
	"strings"
	"time"
)

// form is a submitted form: the values as typed, to show them again, and
// a message per field in the page's language, shown next to the field.
type form struct {
	V   map[string]string
	E   map[string]string
	Err string // about the form as a whole
}

func newForm() *form { return &form{V: map[string]string{}, E: map[string]string{}} }

// read keeps the trimmed values of fields from r's form.
func (f *form) read(r *http.Request, fields ...string) *form {
	for _, k := range fields {
		f.V[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	return f
}

// fail records the first message of a field.
func (f *form) fail(field, msg string) {
	if _, ok := f.E[field]; !ok {
		f.E[field] = msg
	}
}

func (f *form) ok() bool { return len(f.E) == 0 && f.Err == "" }

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	// dict makes a map of key, value pairs (for sub-templates).
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				m[k] = kv[i+1]
			}
		}
		return m
	},
	// invalid marks a field with an error for assistive technology.
	"invalid": func(f *form, field string) template.HTMLAttr {
		if f == nil || f.E[field] == "" {
			return ""
		}
		return template.HTMLAttr(`aria-invalid="true" aria-describedby="` + template.HTMLEscapeString(field) + `-error"`)
	},
	"fieldError": func(f *form, field string) string {
		if f == nil {
			return ""
		}
		return f.E[field]
	},
	"value": func(f *form, field string) string {
		if f == nil {
			return ""
		}
		return f.V[field]
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(vietnam).Format("02/01/2006")
	},
}
