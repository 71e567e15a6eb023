package models

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ProjectFile is the name of the project file at the root of every project.
const ProjectFile = "cdp.yml"

// MaxFileSize is the largest project or model file the loader accepts, in bytes.
const MaxFileSize = 10 << 20

// LoadOptions configures LoadWithOptions. The zero value behaves like Load.
type LoadOptions struct {
	// Getenv looks up a variable for ${VAR} interpolation and reports whether it is
	// set. Nil means os.LookupEnv. Tests inject a map here instead of mutating the
	// process environment.
	Getenv func(name string) (string, bool)
	// Target selects the target to use (the --target flag). Empty means the
	// CDP_TARGET variable (looked up through Getenv), then cdp.yml's `target`,
	// then the first declared target. Only the selected target's settings must
	// have every ${VAR} set; see Project.DefaultTarget.
	Target string
}

// Load reads and checks the project rooted at root: cdp.yml and every model file
// under its model paths. It reports every problem at once, sorted by position.
// The returned Project is never nil, but it is only complete and consistent when
// the diagnostics hold no error.
func Load(root string) (*Project, Diagnostics) {
	return LoadWithOptions(root, LoadOptions{})
}

// LoadWithOptions is Load with an injectable environment and target selection.
func LoadWithOptions(root string, opts LoadOptions) (*Project, Diagnostics) {
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	l := newLoader(root, opts)
	l.run()
	l.diags.Sort()
	return l.p, l.diags.dedupe()
}

// loader holds the state of one Load: the project being filled, the diagnostics,
// the name registries and the checks deferred until every file has been read.
type loader struct {
	opts    LoadOptions
	p       *Project
	diags   Diagnostics
	file    string      // file being parsed, relative to the root, slash-separated
	lenient bool        // unset ${VAR} keeps its text instead of being an error
	mpaths  []modelPath // model_paths with their positions

	declared map[string]map[string]Pos // kind → name → first declaration
	identity *Pos                      // first identity block
	sources  map[string]*Source
	traits   map[string]*Trait
	segments map[string]*Segment
	dests    map[string]*Destination

	later      []func() // cross-file checks, run after every file is parsed
	segEdges   map[string][]edge
	traitEdges map[string][]edge
	idTypeUsed map[string]bool
	nameCache  map[string][]string // sorted names per kind, for suggestions
	events     []string            // event sources, computed once
}

func newLoader(root string, opts LoadOptions) *loader {
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return &loader{
		opts:       opts,
		p:          &Project{Root: root, Targets: map[string]*Target{}, Serve: defaultServe()},
		declared:   map[string]map[string]Pos{},
		sources:    map[string]*Source{},
		traits:     map[string]*Trait{},
		segments:   map[string]*Segment{},
		dests:      map[string]*Destination{},
		segEdges:   map[string][]edge{},
		traitEdges: map[string][]edge{},
		idTypeUsed: map[string]bool{},
		nameCache:  map[string][]string{},
	}
}

func (l *loader) run() {
	l.file = ProjectFile
	data, ok := l.readFile(filepath.Join(l.p.Root, ProjectFile))
	if !ok {
		return // not a project: nothing else to check
	}
	l.setDefaults()
	if doc, ok := l.parseDoc(data); ok {
		l.parseProjectFile(doc)
	}
	// Model files are checked even when cdp.yml is broken (with the default
	// model path then), so that one run shows every problem.
	for _, rel := range l.modelFiles() {
		l.file = rel
		if data, ok := l.readFile(filepath.Join(l.p.Root, filepath.FromSlash(rel))); ok {
			if doc, ok := l.parseDoc(data); ok {
				l.parseModelFile(doc)
			}
		}
	}
	for _, check := range l.later {
		check()
	}
	l.checkCycles()
	l.checkUnused()
}

// report records a diagnostic.
func (l *loader) report(sev Severity, pos Pos, msg, hint string) {
	l.diags = append(l.diags, Diagnostic{Pos: pos, Severity: sev, Message: msg, Hint: hint})
}

func (l *loader) errorf(pos Pos, hint, format string, args ...any) {
	l.report(SeverityError, pos, fmt.Sprintf(format, args...), hint)
}

func (l *loader) warnf(pos Pos, hint, format string, args ...any) {
	l.report(SeverityWarning, pos, fmt.Sprintf(format, args...), hint)
}

// pos returns the position of n in the file being parsed.
func (l *loader) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: l.file}
	}
	return Pos{File: l.file, Line: n.Line, Col: n.Column}
}

// declare registers name for kind; a second declaration is an error at pos that
// names the first one.
func (l *loader) declare(kind, name string, pos Pos) bool {
	if name == "" {
		return false
	}
	names := l.declared[kind]
	if names == nil {
		names = map[string]Pos{}
		l.declared[kind] = names
	}
	if first, dup := names[name]; dup {
		l.errorf(pos, "names must be unique per kind across all model files",
			"duplicate %s `%s` (first declared at %s)", kind, name, first)
		return false
	}
	names[name] = pos
	return true
}

// parseDoc parses a file and returns the root node of its single document, or
// nil for an empty file. ok is false when the file is not valid YAML or breaks
// the limits of checkTree.
func (l *loader) parseDoc(data []byte) (*yaml.Node, bool) {
	docs, ok := l.parseYAML(data)
	if len(docs) > 1 {
		l.errorf(l.pos(docs[1]), "split the documents into several files",
			"a project file holds a single YAML document, found another one")
	}
	if len(docs) == 0 {
		return nil, ok
	}
	root := docs[0]
	if len(root.Content) == 0 {
		return nil, ok
	}
	return root.Content[0], ok && l.checkTree(root)
}

func (l *loader) readFile(path string) ([]byte, bool) {
	at := Pos{File: l.file}
	info, err := os.Stat(path)
	if err != nil {
		hint := ""
		if l.file == ProjectFile && errors.Is(err, fs.ErrNotExist) {
			hint = "run `cdp init` or point --project at a folder holding cdp.yml"
		}
		l.errorf(at, hint, "cannot read %s: %v", l.file, unwrapPathErr(err))
		return nil, false
	}
	if !info.Mode().IsRegular() {
		l.errorf(at, "", "%s is not a regular file", l.file)
		return nil, false
	}
	if info.Size() > MaxFileSize {
		l.errorf(at, "split it into several files", "file is too large: %d bytes, the limit is %d (10 MiB)", info.Size(), MaxFileSize)
		return nil, false
	}
	f, err := os.Open(path)
	if err != nil {
		l.errorf(at, "", "cannot read %s: %v", l.file, unwrapPathErr(err))
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		l.errorf(at, "", "cannot read %s: %v", l.file, unwrapPathErr(err))
		return nil, false
	}
	if len(data) > MaxFileSize {
		l.errorf(at, "split it into several files", "file is too large: the limit is %d bytes (10 MiB)", MaxFileSize)
		return nil, false
	}
	return data, true
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseYAML parses every document of data into nodes. Parse errors are reported
// with the line yaml.v3 gives; documents before the error are still returned.
func (l *loader) parseYAML(data []byte) ([]*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		doc := new(yaml.Node)
		err := decodeNode(dec, doc)
		if err == io.EOF {
			return docs, true
		}
		if err != nil {
			l.yamlError(err)
			return docs, false
		}
		docs = append(docs, doc)
	}
}

// decodeNode decodes one document, turning a parser panic into an error.
func decodeNode(dec *yaml.Decoder, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: parser failure: %v", r)
		}
	}()
	return dec.Decode(doc)
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the yaml.v3 parser (not scanner) errors. yaml.v3 prints
// their line 0-based and at the start of the enclosing construct.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected <document start>", "did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive", "found duplicate %YAML directive",
	"found incompatible YAML document", "found undefined tag handle",
}

// yamlError reports a yaml.v3 parse error. yaml.v3 gives a line but no column.
func (l *loader) yamlError(err error) {
	msg := err.Error()
	at := Pos{File: l.file}
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		at.Line, _ = strconv.Atoi(m[1])
		at.Col = 1
		msg = m[2]
		if contains(yamlParserProblems, msg) {
			at.Line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	l.errorf(at, "check the indentation and quoting around this line", "invalid YAML: %s", msg)
}

// modelFiles lists the model files under the project's model paths, relative to
// the root, slash-separated, deduplicated and sorted.
func (l *loader) modelFiles() []string {
	seen := map[string]bool{}
	var files []string
	for _, mp := range l.mpaths {
		dir := mp.path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(l.p.Root, dir)
		}
		info, err := os.Stat(dir)
		if err != nil {
			if mp.explicit {
				l.errorf(mp.pos, "create the folder or fix `model_paths`", "model path `%s` does not exist", mp.path)
			}
			continue
		}
		if !info.IsDir() {
			if isYAMLFile(dir) {
				files = l.addFile(files, seen, dir)
			}
			continue
		}
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				l.errorf(Pos{File: l.rel(path)}, "", "cannot read %s: %v", l.rel(path), unwrapPathErr(err))
				return nil
			}
			if d.IsDir() {
				if path != dir && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if isYAMLFile(path) && !strings.HasPrefix(d.Name(), ".") {
				files = l.addFile(files, seen, path)
			}
			return nil
		})
	}
	sort.Strings(files)
	return files
}

func (l *loader) addFile(files []string, seen map[string]bool, path string) []string {
	rel := l.rel(path)
	if seen[rel] || rel == ProjectFile {
		return files
	}
	seen[rel] = true
	return append(files, rel)
}

// rel returns path relative to the project root, slash-separated.
func (l *loader) rel(path string) string {
	if r, err := filepath.Rel(l.p.Root, path); err == nil {
		path = r
	}
	return filepath.ToSlash(path)
}

func isYAMLFile(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yml" || ext == ".yaml"
}
