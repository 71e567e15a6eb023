package models

import (
	"fmt"
	"regexp"
	"strings"
)

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxInterpNesting bounds ${A:-${B:-…}} nesting so hostile input cannot recurse deeply.
const maxInterpNesting = 8

// interpolation is the result of expanding ${…} references in one string.
type interpolation struct {
	out     string
	missing []string // unset variables referenced without a default
	err     string   // syntax error, "" when the string is well formed
}

// interpolate expands ${VAR} and ${VAR:-default} in s. A variable that is set but
// empty expands to "" with ${VAR} and to the default with ${VAR:-default}, as in
// the shell. `$${` is an escaped literal `${`; any other `$` is kept as is.
// Defaults may themselves contain ${…} and are only expanded when used.
func interpolate(s string, getenv func(string) (string, bool)) interpolation {
	var res interpolation
	res.out = expandEnv(s, getenv, &res, 0)
	return res
}

func expandEnv(s string, getenv func(string) (string, bool), res *interpolation, depth int) string {
	if !strings.Contains(s, "${") {
		return s
	}
	if depth > maxInterpNesting {
		res.setErr("`${…}` nested too deeply")
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := closingBrace(s, i+2)
		if end < 0 {
			res.setErr("unterminated `${`")
			b.WriteString(s[i:])
			break
		}
		b.WriteString(expandRef(s[i+2:end], getenv, res, depth))
		i = end + 1
	}
	return b.String()
}

// expandRef expands the inside of one ${…}.
func expandRef(inner string, getenv func(string) (string, bool), res *interpolation, depth int) string {
	name, def, hasDef := strings.Cut(inner, ":-")
	switch {
	case name == "":
		res.setErr("empty variable name in `${}`")
		return ""
	case !envNameRe.MatchString(name):
		res.setErr(fmt.Sprintf("bad variable name `%s` in `${%s}`", name, inner))
		return ""
	}
	v, ok := getenv(name)
	if hasDef && (!ok || v == "") {
		return expandEnv(def, getenv, res, depth+1)
	}
	if !ok {
		res.missing = append(res.missing, name)
		return "${" + inner + "}"
	}
	return v
}

// closingBrace returns the index of the `}` closing a `${` whose body starts at
// from, skipping nested ${…}; -1 if there is none.
func closingBrace(s string, from int) int {
	depth := 1
	for i := from; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			depth++
			i++
		case s[i] == '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func (r *interpolation) setErr(msg string) {
	if r.err == "" {
		r.err = msg
	}
}
