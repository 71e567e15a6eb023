package models

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	consentKeys     = []string{"purposes"}
	purposeKeys     = []string{"name", "default", "from"}
	consentFromKeys = []string{"source", "column", "purpose_column", "purpose_value"}
	consentStates   = []string{ConsentGranted, ConsentDenied}
)

// Consent states. A profile's state for a purpose is the latest statement
// of any of its sources, or ConsentUnknown when none says anything; the
// purpose's Default decides what unknown allows.
const (
	ConsentGranted = "granted"
	ConsentDenied  = "denied"
	ConsentUnknown = "unknown"
)

// Consent is the models' `consent:` section: the purposes a person may
// grant or deny, each fed by columns of source rows.
type Consent struct {
	Purposes []*Purpose
	Pos      Pos
}

// Purpose is one consent purpose (email_marketing, ads_personalization…).
type Purpose struct {
	Name string
	// Default is what a profile without any statement gets: ConsentDenied
	// unless the YAML says `default: granted`.
	Default string
	// From lists the statements' sources in priority order: of two
	// statements at the same time, the earlier entry wins.
	From []*ConsentFrom
	Pos  Pos
}

// ConsentFrom is one source of consent statements. Every row of the source
// whose Column is not NULL states the purpose at the row's timestamp: a
// boolean (true = granted), or text such as granted/denied, yes/no,
// opt_in/opt_out, subscribed/unsubscribed (see docs/privacy.md). A
// consent-event stream holding several purposes names the column that says
// which purpose a row is about (PurposeColumn) and the value meaning this
// purpose (PurposeValue, default the purpose's name).
type ConsentFrom struct {
	Source        string
	Column        string
	PurposeColumn string
	PurposeValue  string
	Pos           Pos
}

// Purpose returns the consent purpose with the given name, or nil.
func (p *Project) Purpose(name string) *Purpose {
	if p.Consent == nil {
		return nil
	}
	for _, u := range p.Consent.Purposes {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// kindPurpose is the registry kind of consent purposes.
const kindPurpose = "consent purpose"

// parseConsent decodes the `consent:` section; a project has at most one.
func (l *loader) parseConsent(n *yaml.Node) {
	m, ok := l.mapping(n, "`consent`", consentKeys, false)
	if !ok {
		return
	}
	at := l.pos(m.node)
	if l.p.Consent != nil {
		l.errorf(at, "merge the two sections", "only one `consent` section per project (first at %s)", l.p.Consent.Pos)
		return
	}
	l.p.Consent = &Consent{Pos: at}
	pn := m.get("purposes")
	if pn == nil || isNull(pn) {
		l.errorf(at, "e.g. `purposes: [{ name: email_marketing, from: [{ source: crm_contacts, column: email_opt_in }] }]`",
			"`consent` needs `purposes`")
		return
	}
	l.eachItem(pn, "`purposes`", l.parsePurpose)
}

// parsePurpose decodes one consent purpose.
func (l *loader) parsePurpose(n *yaml.Node) {
	m, ok := l.mapping(n, itemWhat("consent purpose", n), purposeKeys, false)
	if !ok {
		return
	}
	u := &Purpose{Pos: l.pos(m.node)}
	name, namePos := l.name(m, kindPurpose)
	u.Name = name
	u.Default = l.optEnum(m, "default", "consent default", consentStates, ConsentDenied)
	fn := m.get("from")
	if fn == nil || isNull(fn) {
		l.errorf(u.Pos, "e.g. `from: [{ source: crm_contacts, column: email_opt_in }]`", "%s needs `from`", m.what)
	} else if items, ok := l.list(fn, "`from`"); ok {
		if len(items) == 0 {
			l.errorf(l.pos(fn), "list the columns that state this consent", "`from` of %s is empty", m.what)
		}
		for _, item := range items {
			if f := l.parseConsentFrom(item, u); f != nil {
				u.From = append(u.From, f)
			}
		}
	}
	if l.declare(kindPurpose, name, namePos) {
		l.p.Consent.Purposes = append(l.p.Consent.Purposes, u)
	}
}

// parseConsentFrom decodes one entry of a purpose's `from`, checking the
// source once every file is read.
func (l *loader) parseConsentFrom(n *yaml.Node, u *Purpose) *ConsentFrom {
	m, ok := l.mapping(n, "an entry of `from`", consentFromKeys, false)
	if !ok {
		return nil
	}
	f := &ConsentFrom{Pos: l.pos(m.node)}
	f.Source = l.optText(m, "source")
	f.Column = l.optText(m, "column")
	f.PurposeColumn = l.optText(m, "purpose_column")
	f.PurposeValue = l.optText(m, "purpose_value")
	if !m.has("source") {
		l.errorf(f.Pos, "name the source whose rows state the consent", "an entry of `from` needs a `source`")
	}
	if !m.has("column") {
		l.errorf(f.Pos, "name its boolean (or granted/denied) column, e.g. `column: email_opt_in`", "an entry of `from` needs a `column`")
	}
	if f.PurposeValue != "" && f.PurposeColumn == "" {
		l.errorf(l.valuePos(m, "purpose_value"), "add `purpose_column: <column naming the purpose>`",
			"`purpose_value` needs `purpose_column`")
	}
	if f.PurposeColumn != "" && f.PurposeValue == "" {
		f.PurposeValue = u.Name
	}
	srcAt := l.valuePos(m, "source")
	l.later = append(l.later, func() {
		if f.Source == "" {
			return
		}
		s := l.sourceRef(f.Source, srcAt)
		if s == nil {
			return
		}
		if s.Timestamp == "" {
			l.errorf(srcAt, "set the source's `timestamp:` to when each row was stated (e.g. updated_at): the latest statement decides",
				"consent purpose `%s` reads source `%s`, which has no `timestamp`", u.Name, s.Name)
		}
		if len(s.Identifiers) == 0 {
			l.errorf(srcAt, "map an identifier of the person in the source",
				"consent purpose `%s` reads source `%s`, whose rows have no identifiers: they reach no profile", u.Name, s.Name)
		}
	})
	return f
}

// Suppression is one entry of the models' `suppress:` list: identifiers of
// people no sync may deliver to (a do-not-contact list from legal, spam
// complaints), read from a warehouse table or a CSV file of the project.
type Suppression struct {
	Name  string
	Table string // relation; exclusive with File
	// File is a CSV file (header row first) relative to the project root,
	// loaded into <entity>_suppress_<name> by every run.
	File        string
	Identifiers []*SourceIdentifier // columns and their identifier types
	Pos         Pos
}

var suppressKeys = []string{"name", "table", "file", "identifiers"}

// kindSuppression is the registry kind of suppression lists.
const kindSuppression = "suppression list"

// parseSuppression decodes one item of `suppress`.
func (l *loader) parseSuppression(n *yaml.Node) {
	m, ok := l.mapping(n, itemWhat("suppression list", n), suppressKeys, false)
	if !ok {
		return
	}
	s := &Suppression{Pos: l.pos(m.node)}
	name, namePos := l.name(m, kindSuppression)
	s.Name = name
	if len(l.exclusive(m, "table", "file")) == 0 {
		l.errorf(s.Pos, "set `table: schema.relation` or `file: suppress/list.csv`", "%s needs `table` or `file`", m.what)
	}
	s.Table = l.optText(m, "table")
	s.File = l.optText(m, "file")
	fileAt := l.valuePos(m, "file")
	if in := m.get("identifiers"); in != nil && !isNull(in) {
		if items, ok := l.list(in, "`identifiers`"); ok {
			for _, item := range items {
				if id := l.parseIdentifier(item); id != nil {
					if id.Expr != "" && s.File != "" {
						l.errorf(id.Pos, "name a column of the file's header", "a suppression file's identifiers are columns, not `expr`")
					}
					s.Identifiers = append(s.Identifiers, id)
				}
			}
		}
	}
	if len(s.Identifiers) == 0 {
		l.errorf(s.Pos, "e.g. `identifiers: [{ column: email, type: email }]`", "%s needs `identifiers`", m.what)
	}
	if s.File != "" {
		l.checkSuppressFile(s, fileAt)
	}
	for _, id := range s.Identifiers {
		id := id
		l.later = append(l.later, func() {
			if t := l.p.IDType(id.Type); t != nil && t.Normalize == "phone" && s.Table != "" {
				l.errorf(id.Pos, "list the numbers in a suppression `file` (normalized like every phone), or suppress by another identifier",
					"phone identifiers of a suppression `table` are not supported")
			}
		})
	}
	if l.declare(kindSuppression, name, namePos) {
		l.p.Suppressions = append(l.p.Suppressions, s)
	}
}

// checkSuppressFile checks that a suppression file is a relative path
// inside the project whose header names the identifiers' columns.
func (l *loader) checkSuppressFile(s *Suppression, at Pos) {
	f := strings.ReplaceAll(s.File, "\\", "/")
	if strings.HasPrefix(f, "/") || f == ".." || strings.HasPrefix(f, "../") || strings.Contains(f, "/../") {
		l.errorf(at, "write a path relative to the project folder, e.g. `suppress/do_not_contact.csv`",
			"suppression file `%s` must be inside the project", s.File)
		return
	}
	header, err := ReadCSVHeader(s.FilePath(l.p.Root))
	if err != nil {
		l.errorf(at, "a CSV file whose first row names the columns, e.g. `email`", "suppression file `%s`: %v", s.File, err)
		return
	}
	for _, id := range s.Identifiers {
		if id.Column != "" && !contains(header, id.Column) {
			l.errorf(id.Pos, "its columns are: "+strings.Join(header, ", "),
				"suppression file `%s` has no column `%s`", s.File, id.Column)
		}
	}
}

// FilePath is the path of a suppression list's file under the project
// root (File is written with forward or back slashes).
func (s *Suppression) FilePath(root string) string {
	return filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(s.File, "\\", "/")))
}

// OpenCSV opens a CSV file and reads its first row: the column names, a
// leading UTF-8 byte order mark removed and names trimmed. The reader
// returns the following rows (of any length); close closes the file. A
// path error is reported as its cause alone (e.g. "no such file or
// directory").
func OpenCSV(path string) (r *csv.Reader, header []string, close func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, unwrapPathErr(err)
	}
	r = csv.NewReader(f)
	r.FieldsPerRecord = -1
	row, err := r.Read()
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	for i := range row {
		row[i] = strings.TrimSpace(strings.TrimPrefix(row[i], "\ufeff"))
	}
	return r, row, f.Close, nil
}

// ReadCSVHeader returns the first row of a CSV file (see OpenCSV).
func ReadCSVHeader(path string) ([]string, error) {
	_, header, closeFile, err := OpenCSV(path)
	if err != nil {
		return nil, err
	}
	closeFile()
	return header, nil
}
