package sqlcheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Parser is one parser of one dialect, as check.mjs names them.
type Parser struct {
	Name    string // "polyglot" or "sql-parser-cst"
	Dialect string // the parser's name for the dialect
	// Functions, for polyglot, lists (upper case) the functions the
	// warehouse has among those polyglot parses as generic calls: polyglot
	// accepts any name, so a PostgreSQL function in Snowflake SQL would
	// otherwise pass. Nil checks no names.
	Functions []string
	// ForbidLiterals, for polyglot, lists literal kinds the warehouse does
	// not have, such as "escape_string" (PostgreSQL's E'…').
	ForbidLiterals []string
}

// Parsers maps a registered target type to the parsers its SQL must pass.
var Parsers = map[string][]Parser{
	"snowflake": {{Name: "polyglot", Dialect: "snowflake", Functions: snowflakeFunctions,
		ForbidLiterals: []string{"escape_string"}}},
	"bigquery": {{Name: "polyglot", Dialect: "bigquery"}, {Name: "sql-parser-cst", Dialect: "bigquery"}},
}

// snowflakeFunctions are Snowflake functions (from its SQL function
// reference) that polyglot 0.12.1 parses as generic calls. Add a name here
// only after checking that Snowflake has it.
var snowflakeFunctions = []string{
	"ARRAY_AGG", "ARRAY_SIZE", "BITAND", "CHARINDEX", "COLLATE", "CONTAINS", "DATEADD", "DATEDIFF",
	"DATE_TRUNC", "ENDSWITH", "EQUAL_NULL", "GREATEST", "HASH", "IFF", "LEAST", "LISTAGG", "MD5",
	"MD5_HEX", "NULLIF", "NVL", "OBJECT_CONSTRUCT", "PARSE_JSON", "REGEXP_COUNT", "REGEXP_INSTR",
	"REGEXP_LIKE", "REGEXP_REPLACE", "REGEXP_SUBSTR", "REPLACE", "RIGHT", "LEFT", "SHA2", "SPLIT_PART",
	"STARTSWITH", "TO_JSON", "TRANSLATE", "TO_NUMBER", "TO_TIMESTAMP_NTZ", "TO_VARCHAR", "TRY_CAST",
	"TRY_PARSE_JSON", "TRY_TO_NUMBER", "TRY_TO_TIMESTAMP_NTZ", "UUID_STRING",
}

// Statement is one SQL statement to parse; Name says where it came from.
type Statement struct {
	Name string
	SQL  string
}

// Finding is a statement a parser refused, with the position (1-based,
// inside the statement) of the error.
type Finding struct {
	Name    string `json:"name"`
	Parser  string `json:"parser"`
	Dialect string `json:"dialect"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

// String renders the finding as name:line:col: parser (dialect): message.
func (f Finding) String() string {
	return f.Name + ":" + strconv.Itoa(f.Line) + ":" + strconv.Itoa(f.Col) + ": " +
		f.Parser + " (" + f.Dialect + "): " + f.Message
}

// ErrNoNode means node or npm is not on PATH.
var ErrNoNode = errors.New("sqlcheck: node and npm are needed to parse SQL (tools/sqlcheck)")

// Checker runs the parsers of tools/sqlcheck.
type Checker struct {
	dir  string // tools/sqlcheck
	node string
}

// ToolsDir is tools/sqlcheck of the module this package was built from.
func ToolsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "tools", "sqlcheck")
}

// stampFile records the hash of the lockfile node_modules was installed from.
const stampFile = ".cdp-lock-sha256"

// Open returns a Checker for dir (ToolsDir() when empty), installing the
// npm packages from the lockfile first when node_modules is missing or was
// installed from a different lockfile. Installs are serialized across
// processes with a lock file.
func Open(ctx context.Context, dir string) (*Checker, error) {
	if dir == "" {
		dir = ToolsDir()
	}
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		return nil, ErrNoNode
	}
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return nil, fmt.Errorf("sqlcheck: %w", err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(dir, "node_modules", stampFile)
	if installed(stamp, want) {
		return &Checker{dir: dir, node: node}, nil
	}
	unlock, err := lockDir(filepath.Join(dir, ".install.lock"))
	if err != nil {
		return nil, fmt.Errorf("sqlcheck: %w", err)
	}
	defer unlock()
	if !installed(stamp, want) { // another process may have installed meanwhile
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("sqlcheck: npm ci in %s: %w\n%s", dir, err, out.String())
		}
		if err := os.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("sqlcheck: %w", err)
		}
	}
	return &Checker{dir: dir, node: node}, nil
}

func installed(stamp, want string) bool {
	b, err := os.ReadFile(stamp)
	return err == nil && strings.TrimSpace(string(b)) == want
}

// item is one line of check.mjs's input.
type item struct {
	Parser         string   `json:"parser"`
	Dialect        string   `json:"dialect"`
	Name           string   `json:"name"`
	SQL            string   `json:"sql"`
	Functions      []string `json:"functions,omitempty"`
	ForbidLiterals []string `json:"forbidLiterals,omitempty"`
}

// Check parses every statement with every parser of dialect (a target type,
// see Parsers) and returns the refusals in statement order. A dialect
// without parsers returns nothing.
func (c *Checker) Check(ctx context.Context, dialect string, stmts []Statement) ([]Finding, error) {
	var items []item
	for _, s := range stmts {
		for _, p := range Parsers[dialect] {
			items = append(items, item{Parser: p.Name, Dialect: p.Dialect, Name: s.Name, SQL: s.SQL,
				Functions: p.Functions, ForbidLiterals: p.ForbidLiterals})
		}
	}
	if len(items) == 0 {
		return nil, nil
	}
	in, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, c.node, "check.mjs")
	cmd.Dir = c.dir
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("sqlcheck: node check.mjs: %w\n%s", err, stderr.String())
	}
	var out []Finding
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("sqlcheck: reading check.mjs output: %w\n%s", err, stderr.String())
	}
	return out, nil
}

// ForTest returns a Checker for tests. It skips t when node or npm is
// missing, unless CI=true, where it fails t.
func ForTest(t testing.TB) *Checker {
	t.Helper()
	c, err := Open(context.Background(), "")
	if errors.Is(err, ErrNoNode) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true, so not skipping)", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Require parses stmts for dialect and fails t with every finding, each
// with the statement's text around the error.
func Require(t testing.TB, c *Checker, dialect string, stmts []Statement) {
	t.Helper()
	findings, err := c.Check(context.Background(), dialect, stmts)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, s := range stmts {
		byName[s.Name] = s.SQL
	}
	for _, f := range findings {
		t.Errorf("%s\n%s", f, Excerpt(byName[f.Name], f.Line, f.Col))
	}
}

// Excerpt shows the line of sql at line (1-based) with a caret under col,
// clipped to 160 characters around it.
func Excerpt(sql string, line, col int) string {
	lines := strings.Split(sql, "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	l := []rune(lines[line-1])
	c := min(max(col-1, 0), len(l))
	from := max(c-80, 0)
	to := min(c+80, len(l))
	return "  " + string(l[from:to]) + "\n  " + strings.Repeat(" ", c-from) + "^"
}
