// Package doccheck holds the documentation to the code it describes, so the two cannot drift
// apart unnoticed: the landing page stays short and shows the orb first, the orb reference
// covers every component and parameter orb/src declares (with their types and defaults), the
// CLI reference every exit code, environment variable and package, the development page every
// make target, relative links lead to files and headings that exist, and tracked text describes
// behaviour rather than the project's history. `make lint` runs its test against the repository.
//
// Each check is a function from what it reads to a list of problems, one line each, so the
// tests can feed it small documents that must fail.
package doccheck

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Landing-page limits: the README is a page someone reads in five minutes, and its first
// screen shows how to use the orb.
const (
	ReadmeMaxLines    = 400
	ReadmeFirstScreen = 60
)

// ReadmeFirstScreenMust are the strings the README's first screen must hold: the orb's
// registry name and its main job.
var ReadmeFirstScreenMust = []string{"baton-ci/baton@", "baton/trigger-pipeline"}

// ReadmeProblems checks the landing page's length and its first screen.
func ReadmeProblems(text string) []string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var problems []string
	if len(lines) > ReadmeMaxLines {
		problems = append(problems, fmt.Sprintf("README.md has %d lines; keep it at most %d and move reference text to orb/README.md or helper/README.md", len(lines), ReadmeMaxLines))
	}
	first := strings.Join(lines[:min(len(lines), ReadmeFirstScreen)], "\n")
	for _, must := range ReadmeFirstScreenMust {
		if !strings.Contains(first, must) {
			problems = append(problems, fmt.Sprintf("README.md: the first %d lines do not show %q", ReadmeFirstScreen, must))
		}
	}
	return problems
}

// Param is one declaration of an orb parameter.
type Param struct {
	Component string // e.g. "commands/trigger-pipeline"
	Type      string
	Default   any // nil when the parameter has no default
}

// Orb is what orb/src declares: its components by kind, and every declaration of each
// parameter name.
type Orb struct {
	Components map[string][]string // "commands", "jobs", "executors" → names
	Params     map[string][]Param
}

// ReadOrb reads the components and parameters declared under srcDir (orb/src).
func ReadOrb(srcDir string) (Orb, error) {
	orb := Orb{Components: map[string][]string{}, Params: map[string][]Param{}}
	for _, kind := range []string{"commands", "jobs", "executors"} {
		files, err := filepath.Glob(filepath.Join(srcDir, kind, "*.yml"))
		if err != nil {
			return Orb{}, err
		}
		for _, file := range files {
			name := strings.TrimSuffix(filepath.Base(file), ".yml")
			orb.Components[kind] = append(orb.Components[kind], name)
			data, err := os.ReadFile(file)
			if err != nil {
				return Orb{}, err
			}
			var doc struct {
				Parameters map[string]struct {
					Type    string `yaml:"type"`
					Default any    `yaml:"default"`
				} `yaml:"parameters"`
			}
			if err := yaml.Unmarshal(data, &doc); err != nil {
				return Orb{}, fmt.Errorf("%s: %w", file, err)
			}
			for pname, p := range doc.Parameters {
				orb.Params[pname] = append(orb.Params[pname], Param{Component: kind + "/" + name, Type: p.Type, Default: p.Default})
			}
		}
	}
	if len(orb.Components["commands"]) == 0 {
		return Orb{}, fmt.Errorf("%s declares no commands: is it the orb's source?", srcDir)
	}
	return orb, nil
}

// RenderDefault is how the reference writes a default in its tables: `""` for the empty
// string, else the value in backquotes.
func RenderDefault(v any) string {
	if s, ok := v.(string); ok && s == "" {
		return "`\"\"`"
	}
	return "`" + fmt.Sprint(v) + "`"
}

// Table is a Markdown table: its header cells and rows of cells, with the line each starts on.
type Table struct {
	Header []string
	Line   int // the header's
	Rows   [][]string
	Lines  []int // each row's
}

// Tables finds the Markdown tables of a document, outside fenced code blocks.
func Tables(doc string) []Table {
	var tables []Table
	var cur *Table
	for i, line := range proseLines(doc) {
		trimmed := strings.TrimSpace(line)
		if !strings.HasPrefix(trimmed, "|") {
			cur = nil
			continue
		}
		cells := splitRow(trimmed)
		switch {
		case cur == nil:
			tables = append(tables, Table{Header: cells, Line: i + 1})
			cur = &tables[len(tables)-1]
		case isDelimiterRow(cells):
		default:
			cur.Rows = append(cur.Rows, cells)
			cur.Lines = append(cur.Lines, i+1)
		}
	}
	return tables
}

func splitRow(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	var cells []string
	var cell strings.Builder
	inCode := false
	for i := 0; i < len(row); i++ {
		c := row[i]
		switch {
		case c == '`':
			inCode = !inCode
		case c == '\\' && i+1 < len(row) && row[i+1] == '|':
			cell.WriteByte('|')
			i++
			continue
		case c == '|' && !inCode:
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
			continue
		}
		cell.WriteByte(c)
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

func isDelimiterRow(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, ":- ") != "" {
			return false
		}
	}
	return true
}

// OrbReferenceProblems checks orb/README.md (doc) against the orb: every component is named,
// every parameter has a row in a parameter table (a table whose header starts with "parameter"
// and has "type" and "default" columns), and each row names a declared parameter with one of
// its declared types and defaults.
func OrbReferenceProblems(doc string, orb Orb) []string {
	var problems []string
	for _, kind := range slices.Sorted(maps.Keys(orb.Components)) {
		for _, name := range orb.Components[kind] {
			if !strings.Contains(doc, "`"+name+"`") && !strings.Contains(doc, "`baton/"+name+"`") {
				problems = append(problems, fmt.Sprintf("orb/README.md does not name %s/%s (write `%s` or `baton/%s`)", kind, name, name, name))
			}
		}
	}
	documented := map[string]bool{}
	for _, t := range Tables(doc) {
		if len(t.Header) == 0 || !strings.EqualFold(t.Header[0], "parameter") {
			continue
		}
		typeCol, defaultCol := slices.Index(t.Header, "type"), slices.Index(t.Header, "default")
		if typeCol < 0 || defaultCol < 0 {
			problems = append(problems, fmt.Sprintf("orb/README.md: the parameter table at line %d needs type and default columns", t.Line))
			continue
		}
		for i, row := range t.Rows {
			name := strings.Trim(row[0], "`")
			decls, ok := orb.Params[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("orb/README.md:%d documents parameter %s, which orb/src does not declare", t.Lines[i], name))
				continue
			}
			documented[name] = true
			if len(row) <= max(typeCol, defaultCol) {
				problems = append(problems, fmt.Sprintf("orb/README.md:%d: the row of %s has too few cells", t.Lines[i], name))
				continue
			}
			var types, defaults []string
			typeOK, defaultOK := false, false
			for _, d := range decls {
				types = append(types, d.Type)
				typeOK = typeOK || strings.Trim(row[typeCol], "` ") == d.Type
				if d.Default == nil {
					defaultOK = true // a required parameter: whatever the row says
					continue
				}
				defaults = append(defaults, RenderDefault(d.Default))
				defaultOK = defaultOK || strings.Contains(row[defaultCol], RenderDefault(d.Default))
			}
			if !typeOK {
				problems = append(problems, fmt.Sprintf("orb/README.md:%d: %s is %q there, but orb/src declares it %s", t.Lines[i], name, row[typeCol], strings.Join(uniq(types), " or ")))
			}
			if !defaultOK {
				problems = append(problems, fmt.Sprintf("orb/README.md:%d: %s defaults to %s there, but orb/src to %s", t.Lines[i], name, row[defaultCol], strings.Join(uniq(defaults), " or ")))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(orb.Params)) {
		if !documented[name] {
			var in []string
			for _, d := range orb.Params[name] {
				in = append(in, d.Component)
			}
			problems = append(problems, fmt.Sprintf("orb/README.md has no row for parameter %s (declared by %s)", name, strings.Join(in, ", ")))
		}
	}
	return problems
}

func uniq(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// ExitCodes returns the exported integer constants of the Go package in dir (non-test files),
// which for helper/internal/exitcode is the table of baton's exit codes.
func ExitCodes(dir string) (map[string]int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, file)
	}
	if len(parsed) == 0 {
		return nil, fmt.Errorf("%s holds no Go files", dir)
	}
	// Constants need no imports: every import fails, and the errors that follow (about the
	// package's functions) are ignored.
	noImports := importerFunc(func(path string) (*types.Package, error) { return nil, fmt.Errorf("%s: not imported", path) })
	conf := types.Config{Importer: noImports, Error: func(error) {}}
	pkg, _ := conf.Check(dir, fset, parsed, nil)
	codes := map[string]int{}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok || !c.Exported() || c.Val().Kind() != constant.Int {
			continue
		}
		v, exact := constant.Int64Val(c.Val())
		if exact {
			codes[name] = int(v)
		}
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("%s declares no exported integer constants", dir)
	}
	return codes, nil
}

// ExitCodeProblems checks that doc has a table row for every code: a row whose first cell
// lists it ("| 4 |", or "| 130, 143 |").
func ExitCodeProblems(docName, doc string, codes map[string]int) []string {
	documented := map[int]bool{}
	for _, t := range Tables(doc) {
		for _, row := range t.Rows {
			for _, part := range strings.Split(row[0], ",") {
				if n, err := strconv.Atoi(strings.Trim(part, "` ")); err == nil {
					documented[n] = true
				}
			}
		}
	}
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(codes)) {
		if !documented[codes[name]] {
			problems = append(problems, fmt.Sprintf("%s has no exit code row for %d (exitcode.%s)", docName, codes[name], name))
		}
	}
	return problems
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

var (
	envTagRE    = regexp.MustCompile(`env: ?"([^"]+)"`)
	lookupEnvRE = regexp.MustCompile(`LookupEnv\("([A-Za-z_][A-Za-z0-9_]*)"\)`)
)

// EnvVars returns the environment variables the Go sources in dir (non-test files) read: every
// name in an `env:"…"` struct tag (kong's, which may list several) or an env: "…" field of a
// flag table (the CLI's flagDoc), and every LookupEnv("…").
func EnvVars(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range envTagRE.FindAllSubmatch(data, -1) {
			for _, name := range strings.Split(string(m[1]), ",") {
				seen[strings.TrimSpace(name)] = true
			}
		}
		for _, m := range lookupEnvRE.FindAllSubmatch(data, -1) {
			seen[string(m[1])] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%s reads no environment variable: is it the CLI's package?", dir)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// MentionProblems checks that doc writes each name in backquotes, as `NAME`.
func MentionProblems(docName, doc, what string, names []string) []string {
	var problems []string
	for _, name := range names {
		if !strings.Contains(doc, "`"+name+"`") {
			problems = append(problems, fmt.Sprintf("%s does not mention %s `%s`", docName, what, name))
		}
	}
	return problems
}

// Packages lists the directories directly under dir (helper/internal): the packages the CLI
// reference describes one by one.
func Packages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, e := range entries {
		if e.IsDir() {
			pkgs = append(pkgs, e.Name())
		}
	}
	return pkgs, nil
}

// PackageProblems checks that doc gives each package an entry of its own, a list item that
// starts with its name in bold ("- **name**: …").
func PackageProblems(docName, doc string, pkgs []string) []string {
	var problems []string
	for _, p := range pkgs {
		if !regexp.MustCompile(`(?m)^- \*\*` + regexp.QuoteMeta(p) + `\*\*`).MatchString(doc) {
			problems = append(problems, fmt.Sprintf("%s does not describe package helper/internal/%s (a list item starting **%s**)", docName, p, p))
		}
	}
	return problems
}

// MakeTargets returns the targets a Makefile declares .PHONY.
func MakeTargets(makefile string) []string {
	var targets []string
	for _, line := range strings.Split(makefile, "\n") {
		if rest, ok := strings.CutPrefix(line, ".PHONY:"); ok {
			targets = append(targets, strings.Fields(rest)...)
		}
	}
	return targets
}

// MakeTargetProblems checks that doc shows `make TARGET` for every target.
func MakeTargetProblems(docName, doc string, targets []string) []string {
	var problems []string
	for _, t := range targets {
		if !strings.Contains(doc, "`make "+t+"`") {
			problems = append(problems, fmt.Sprintf("%s does not describe `make %s`", docName, t))
		}
	}
	return problems
}

var (
	fenceRE      = regexp.MustCompile("^ {0,3}(```|~~~)")
	inlineCodeRE = regexp.MustCompile("`+[^`]*`+")
	linkRE       = regexp.MustCompile(`\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	refDefRE     = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	htmlLinkRE   = regexp.MustCompile(`(?i)<(?:a|img)\s[^>]*(?:href|src)="([^"]*)"`)
	headingRE    = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	schemeRE     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// proseLines returns doc's lines with fenced code blocks blanked, so that what looks like a
// link or a heading in an example is not taken for one.
func proseLines(doc string) []string {
	lines := strings.Split(doc, "\n")
	var fence string
	for i, line := range lines {
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			switch {
			case fence == "":
				fence = m[1]
			case m[1] == fence:
				fence = ""
			}
			lines[i] = ""
			continue
		}
		if fence != "" {
			lines[i] = ""
		}
	}
	return lines
}

// Anchors returns the anchors GitHub gives the headings of doc: the heading's text in lower
// case, without punctuation, spaces made hyphens, "-1", "-2", … added to repeats.
func Anchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	count := map[string]int{}
	for _, line := range proseLines(doc) {
		m := headingRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := Slug(m[2])
		if n := count[slug]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			anchors[slug] = true
		}
		count[slug]++
	}
	return anchors
}

// Slug is GitHub's anchor for a heading's text.
func Slug(heading string) string {
	heading = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(heading, "$1") // a link's text
	var sb strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-':
			sb.WriteRune(r)
		case r == ' ':
			sb.WriteByte('-')
		}
	}
	return sb.String()
}

// Links returns the link targets of a Markdown document: inline links and images, reference
// definitions and HTML href/src, outside code.
func Links(doc string) []string {
	var links []string
	for _, line := range proseLines(doc) {
		if m := refDefRE.FindStringSubmatch(line); m != nil {
			links = append(links, m[1])
			continue
		}
		line = inlineCodeRE.ReplaceAllString(line, "")
		for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
			links = append(links, m[1])
		}
		for _, m := range htmlLinkRE.FindAllStringSubmatch(line, -1) {
			links = append(links, m[1])
		}
	}
	return links
}

// BrokenLinks checks every relative link of the Markdown files (paths relative to root): its
// file or folder exists, and its #anchor, if any, is a heading of the Markdown file it points
// to. Links with a scheme (https:, mailto:) are not followed.
func BrokenLinks(root string, files []string) ([]string, error) {
	anchorsOf := map[string]map[string]bool{}
	anchors := func(rel string) (map[string]bool, error) {
		if a, ok := anchorsOf[rel]; ok {
			return a, nil
		}
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return nil, err
		}
		anchorsOf[rel] = Anchors(string(data))
		return anchorsOf[rel], nil
	}
	var problems []string
	for _, file := range files {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			return nil, err
		}
		for _, link := range Links(string(data)) {
			if link == "" || schemeRE.MatchString(link) || strings.HasPrefix(link, "//") {
				continue
			}
			target, fragment, _ := strings.Cut(link, "#")
			rel := file
			if target != "" {
				rel = path.Clean(path.Join(path.Dir(file), target))
				if rel == ".." || strings.HasPrefix(rel, "../") {
					problems = append(problems, fmt.Sprintf("%s: link %s leads out of the repository", file, link))
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
					problems = append(problems, fmt.Sprintf("%s: link %s: %s does not exist", file, link, rel))
					continue
				}
			}
			if fragment == "" || !strings.HasSuffix(rel, ".md") {
				continue
			}
			a, err := anchors(rel)
			if err != nil {
				return nil, err
			}
			if !a[fragment] {
				problems = append(problems, fmt.Sprintf("%s: link %s: %s has no heading with anchor #%s", file, link, rel, fragment))
			}
		}
	}
	return problems, nil
}

// Vocabulary is what tracked text must not say: the names of the project's history (where a
// rule was asked for, the machine it was measured on) instead of what the software does. The
// brackets keep the pattern from matching this very line.
const Vocabulary = `the s[e]ed|issue [0-9]+|load a[v]erage|2-c[o]re`

// VocabularyProblems runs git grep for Vocabulary over the files git tracks, and those not yet
// added that it does not ignore, in the work tree at root.
func VocabularyProblems(root string) ([]string, error) {
	cmd := exec.Command("git", "-C", root, "grep", "--untracked", "-n", "-i", "-I", "-E", Vocabulary)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 1 && stderr.Len() == 0:
		return nil, nil // nothing found
	case err != nil:
		return nil, fmt.Errorf("git grep: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var problems []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		problems = append(problems, sc.Text()+"  (describe what the software does, not the history of how it was asked for)")
	}
	return problems, sc.Err()
}

// MarkdownFiles lists the Markdown files git tracks, and those not yet added that it does not
// ignore, in the work tree at root.
func MarkdownFiles(root string) ([]string, error) {
	out, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.md").Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w", err)
	}
	var files []string
	for _, f := range strings.Fields(string(out)) {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil { // deleted but not yet staged: gone
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return slices.Compact(files), nil
}
