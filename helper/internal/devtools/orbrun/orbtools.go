package orbrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Stand-ins for the registry orbs the project's own pipeline (.circleci/) imports, so that it
// runs here end to end:
//
//   - circleci/orb-tools@12.3.1 (CircleCI-Public/orb-tools-orb, src/jobs and src/scripts at tag
//     v12.3.1): the jobs lint, pack, review and publish, with the same parameters, defaults
//     and steps. Kept faithful: lint runs yamllint on source_dir from the working directory;
//     pack writes orb_dir/orb_file_name as `circleci orb pack` does (Pack) and, with
//     persist_to_workspace, leaves orb_source.tar.gz (orb_dir's files) in the workspace the way
//     its workspace-prep.sh does; review runs the RC rules (ReviewRC) with exclude and
//     orb_name; publish attaches the workspace at orb_dir, fails unless it holds
//     orb_source.tar.gz, unpacks it, and publishes with the token from the variable that
//     circleci_token names: production only for a CIRCLE_TAG matching tag_pattern (version
//     X.Y.Z from it), dev under every dev_tags entry with $VARIABLES expanded. Not modelled:
//     orb validation against CircleCI's API (validate parses the orb, and holds it to
//     CircleCI's schema when ../shared has it), installing bats and yamllint, the pull request
//     comment (enable_pr_comment), release tracking, IP ranges.
//   - circleci/continuation@1.1.0 (CircleCI-Public/continuation-orb, v1.1.0): the continue
//     command. Kept faithful: it needs $CIRCLE_CONTINUATION_KEY, reads parameters as a file
//     or as JSON (refusing invalid JSON), posts {continuation-key, configuration, parameters}
//     to POST /api/v2/pipeline/continue and fails unless the answer is 200. It posts to the
//     simulator (StandIns.APIURL) whatever circleci_domain says.
//
// Their scripts are Go (standin steps, standin.go); every other step is the Machine's own.

const orbToolsStandIn = `
version: 2.1
description: Stand-in for circleci/orb-tools@12.3.1 (helper/internal/devtools/orbrun/orbtools.go).
executors:
  default:
    parameters:
      tag: {type: string, default: latest, description: circleci/circleci-cli image tag}
      resource_class: {type: enum, enum: [small, medium, medium+, large, xlarge, 2xlarge, 2xlarge+], default: medium, description: resource class}
    resource_class: << parameters.resource_class >>
    docker: [{image: "circleci/circleci-cli:<< parameters.tag >>"}]
  python:
    parameters:
      tag: {type: string, default: "3.11", description: cimg/python image tag}
      resource_class: {type: enum, enum: [small, medium, medium+, large, xlarge, 2xlarge, 2xlarge+], default: medium, description: resource class}
    resource_class: << parameters.resource_class >>
    docker: [{image: "cimg/python:<< parameters.tag >>"}]
jobs:
  lint:
    parameters:
      source_dir: {type: string, default: src, description: the orb source}
      checkout: {type: boolean, default: true, description: check out first}
      executor: {type: executor, default: python, description: where to run}
      circleci_ip_ranges: {type: boolean, default: false, description: IP ranges}
    executor: << parameters.executor >>
    steps:
      - when: {condition: << parameters.checkout >>, steps: [checkout]}
      - standin:
          name: Linting all YAML files
          run: orb-tools-lint
          environment: {ORB_VAL_SOURCE_DIR: << parameters.source_dir >>}
  pack:
    parameters:
      source_dir: {type: string, default: src, description: the orb source}
      orb_dir: {type: string, default: dist, description: output directory}
      orb_file_name: {type: string, default: orb.yml, description: output file}
      circleci_api_host: {type: string, default: "https://circleci.com", description: API host}
      persist_to_workspace: {type: boolean, default: true, description: persist orb_source.tar.gz}
      checkout: {type: boolean, default: true, description: check out first}
      executor: {type: executor, default: default, description: where to run}
      org_id: {type: string, default: "", description: organization id}
      org_slug: {type: string, default: "", description: organization slug}
      circleci_ip_ranges: {type: boolean, default: false, description: IP ranges}
    executor: << parameters.executor >>
    steps:
      - when: {condition: << parameters.checkout >>, steps: [checkout]}
      - standin:
          name: Packing orb source
          run: orb-tools-pack
          environment:
            ORB_VAL_SOURCE_DIR: << parameters.source_dir >>
            ORB_VAL_ORB_DIR: << parameters.orb_dir >>
            ORB_VAL_ORB_FILE_NAME: << parameters.orb_file_name >>
      - standin:
          name: Validating orb
          run: orb-tools-validate
          environment:
            ORB_VAL_ORB_DIR: << parameters.orb_dir >>
            ORB_VAL_ORB_FILE_NAME: << parameters.orb_file_name >>
      - when:
          condition: << parameters.persist_to_workspace >>
          steps:
            - standin:
                name: Prep Workspace
                run: orb-tools-workspace-prep
                environment: {ORB_VAL_ORB_DIR: << parameters.orb_dir >>, ORB_VAL_TAR: true}
            - persist_to_workspace:
                paths: [orb_source.tar.gz]
                root: << parameters.orb_dir >>
  review:
    parameters:
      exclude: {type: string, default: "", description: RC codes to skip}
      source_dir: {type: string, default: src, description: the orb source}
      orb_name: {type: string, default: "", description: the orb's name in its examples}
      max_command_length: {type: integer, default: 64, description: RC009 limit}
      checkout: {type: boolean, default: true, description: check out first}
      executor: {type: executor, default: python, description: where to run}
      circleci_ip_ranges: {type: boolean, default: false, description: IP ranges}
    executor: << parameters.executor >>
    steps:
      - when: {condition: << parameters.checkout >>, steps: [checkout]}
      - standin:
          name: Review Best Practices
          run: orb-tools-review
          environment:
            ORB_VAL_RC_EXCLUDE: << parameters.exclude >>
            ORB_VAL_MAX_COMMAND_LENGTH: << parameters.max_command_length >>
            ORB_VAL_SOURCE_DIR: << parameters.source_dir >>
            ORB_VAL_ORB_NAME: << parameters.orb_name >>
      - store_test_results: {path: /tmp/orb_dev_kit/review/}
  publish:
    parameters:
      orb_name: {type: string, description: the orb's namespace/name}
      orb_dir: {type: string, default: dist, description: where the workspace is attached}
      orb_file_name: {type: string, default: orb.yml, description: the packed orb}
      tag_pattern: {type: string, default: '^v[0-9]+\.[0-9]+\.[0-9]+$', description: release tags}
      dev_tags: {type: string, default: "dev:${CIRCLE_SHA1},dev:alpha", description: dev versions}
      circleci_token: {type: env_var_name, default: CIRCLE_TOKEN, description: the token's variable}
      vcs_type: {type: enum, enum: [gh, github, bb, bitbucket], description: VCS type}
      github_token: {type: env_var_name, default: GITHUB_TOKEN, description: for the PR comment}
      enable_pr_comment: {type: boolean, default: true, description: comment on the PR}
      circleci_api_host: {type: string, default: "https://circleci.com", description: API host}
      pr_comment_graphql_url: {type: string, default: "https://api.github.com/graphql?=", description: GraphQL URL}
      pub_type: {type: enum, enum: [dev, production], default: dev, description: dev or production}
      checkout: {type: boolean, default: true, description: check out first}
      executor: {type: executor, default: default, description: where to run}
      circleci_ip_ranges: {type: boolean, default: false, description: IP ranges}
      attach_workspace: {type: boolean, default: true, description: attach at orb_dir}
      release_environment: {type: string, default: "", description: release tracking}
    executor: << parameters.executor >>
    steps:
      - when:
          condition: << parameters.attach_workspace >>
          steps:
            - attach_workspace: {at: << parameters.orb_dir >>}
            - standin:
                name: Prep Workspace
                run: orb-tools-workspace-prep
                environment: {ORB_VAL_ORB_DIR: << parameters.orb_dir >>, ORB_VAL_UNTAR: true}
      - standin:
          name: Publishing Orb Release
          run: orb-tools-publish
          environment:
            ORB_VAL_ORB_PUB_TOKEN: << parameters.circleci_token >>
            ORB_VAL_ORB_NAME: << parameters.orb_name >>
            ORB_VAL_ORB_DIR: << parameters.orb_dir >>
            ORB_VAL_ORB_FILE_NAME: << parameters.orb_file_name >>
            ORB_VAL_PUB_TYPE: << parameters.pub_type >>
            ORB_VAL_TAG_PATTERN: << parameters.tag_pattern >>
            ORB_VAL_DEV_TAGS: << parameters.dev_tags >>
`

const continuationStandIn = `
version: 2.1
description: Stand-in for circleci/continuation@1.1.0 (helper/internal/devtools/orbrun/orbtools.go).
commands:
  continue:
    parameters:
      configuration_path: {type: string, description: the config to continue with}
      parameters: {type: string, default: "{}", description: "JSON, or a file of JSON"}
      circleci_domain: {type: string, default: circleci.com, description: the CircleCI host}
      when: {type: enum, enum: [on_success, on_fail, always], default: on_success, description: when to run}
    steps:
      - standin:
          name: Continue Pipeline
          run: continuation-continue
          when: << parameters.when >>
          environment:
            CONFIG_PATH: << parameters.configuration_path >>
            PARAMETERS: << parameters.parameters >>
            CIRCLECI_DOMAIN: << parameters.circleci_domain >>
`

// StandIns are the stand-in orbs and what their standin steps do.
type StandIns struct {
	// APIURL is the CircleCI API the continuation stand-in posts to (the simulator's URL).
	APIURL string
	// Registry receives what orb-tools/publish publishes.
	Registry *OrbRegistry
	// Schema, when set, is what orb-tools/pack's validation holds the packed orb to.
	Schema *Schema
}

// standInRefs are the orb references the stand-ins stand for: exactly the versions the
// project pins, so that changing a pin means checking its stand-in again.
var standInRefs = map[string]string{
	"circleci/orb-tools@12.3.1":   orbToolsStandIn,
	"circleci/continuation@1.1.0": continuationStandIn,
}

// Resolve finds a stand-in orb by the reference a config imports it with.
func (s *StandIns) Resolve(ref string) (*Orb, error) {
	text, ok := standInRefs[ref]
	if !ok {
		return nil, fmt.Errorf("no stand-in for orb %s (there are stand-ins for %s)", ref, strings.Join(sortedKeys(standInRefs), ", "))
	}
	return ParseOrb([]byte(text))
}

// Steps are the stand-ins' steps, for Machine.StandIns.
func (s *StandIns) Steps() map[string]StandIn {
	return map[string]StandIn{
		"orb-tools-lint":           orbToolsLint,
		"orb-tools-pack":           orbToolsPack,
		"orb-tools-validate":       s.orbToolsValidate,
		"orb-tools-workspace-prep": orbToolsWorkspacePrep,
		"orb-tools-review":         orbToolsReview,
		"orb-tools-publish":        s.orbToolsPublish,
		"continuation-continue":    s.continuationContinue,
	}
}

// orbFile is ORB_VAL_ORB_DIR/ORB_VAL_ORB_FILE_NAME, as the scripts join them.
func orbFile(s StandInStep) string {
	return filepath.Join(s.Path(strings.TrimSuffix(s.Env["ORB_VAL_ORB_DIR"], "/")), strings.TrimPrefix(s.Env["ORB_VAL_ORB_FILE_NAME"], "/"))
}

// isTrue reads a boolean from a step's environment: CircleCI writes them as 1 and 0.
func isTrue(v string) bool { return v == "1" || v == "true" }

func orbToolsLint(ctx context.Context, s StandInStep) error {
	dir := s.Env["ORB_VAL_SOURCE_DIR"]
	if info, err := os.Stat(s.Path(dir)); err != nil || !info.IsDir() {
		return fmt.Errorf("No source directory located at %s\nThis orb assumes you have built your orb using the Orb Development Kit", dir)
	}
	yamllint, err := exec.LookPath("yamllint")
	if err != nil {
		return fmt.Errorf("yamllint is not installed on this machine (orb-tools installs it with pip): %w", err)
	}
	cmd := exec.CommandContext(ctx, yamllint, dir)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.WorkDir, envList(s.Env), s.Out, s.Out
	return cmd.Run()
}

func orbToolsPack(ctx context.Context, s StandInStep) error {
	packed, err := Pack(s.Path(s.Env["ORB_VAL_SOURCE_DIR"]))
	if err != nil {
		return err
	}
	out := orbFile(s)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, packed, 0o644)
}

func (st *StandIns) orbToolsValidate(ctx context.Context, s StandInStep) error {
	data, err := os.ReadFile(orbFile(s))
	if err != nil {
		return err
	}
	o, err := ParseOrb(data)
	if err != nil {
		return fmt.Errorf("Error: the orb is not valid: %w", err)
	}
	if st.Schema != nil {
		if err := st.Schema.Validate(o.Doc); err != nil {
			return fmt.Errorf("Error: the orb is not valid: %w", err)
		}
	}
	fmt.Fprintf(s.Out, "Orb at `%s` is valid.\n", orbFile(s))
	return nil
}

// orbToolsWorkspacePrep is workspace-prep.sh: with ORB_VAL_TAR, orb_dir becomes one
// orb_source.tar.gz of its files; with ORB_VAL_UNTAR, orb_dir becomes the files of its
// orb_source.tar.gz. Its commands run under bash -e, so a missing tarball fails the step.
func orbToolsWorkspacePrep(ctx context.Context, s StandInStep) error {
	dir := s.Path(strings.TrimSuffix(s.Env["ORB_VAL_ORB_DIR"], "/"))
	tmp, err := os.MkdirTemp("", "orb-source")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tar := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "tar", args...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = s.WorkDir, s.Out, s.Out
		return cmd.Run()
	}
	var from string
	switch {
	case isTrue(s.Env["ORB_VAL_TAR"]):
		fmt.Fprintln(s.Out, "Creating tarball of orb source.")
		if err := tar("-czf", filepath.Join(tmp, "orb_source.tar.gz"), "-C", dir, "."); err != nil {
			return err
		}
		from = tmp
	case isTrue(s.Env["ORB_VAL_UNTAR"]):
		fmt.Fprintln(s.Out, "Extracting tarball of orb source.")
		if err := tar("-xzf", filepath.Join(dir, "orb_source.tar.gz"), "-C", tmp); err != nil {
			return err
		}
		from = tmp
	default:
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return copyTree(from, dir)
}

func orbToolsReview(ctx context.Context, s StandInStep) error {
	var exclude []string
	for _, code := range strings.Split(s.Env["ORB_VAL_RC_EXCLUDE"], ",") {
		if code = strings.TrimSpace(code); code != "" {
			exclude = append(exclude, code)
		}
	}
	if s.Env["ORB_VAL_MAX_COMMAND_LENGTH"] != fmt.Sprint(MaxCommandLength) {
		return fmt.Errorf("the stand-in reviews with max_command_length %d only, not %s", MaxCommandLength, s.Env["ORB_VAL_MAX_COMMAND_LENGTH"])
	}
	fmt.Fprintln(s.Out, "Reviewing orb best practices")
	findings, err := ReviewRC(s.Path(s.Env["ORB_VAL_SOURCE_DIR"]), ReviewOptions{Exclude: exclude, OrbName: s.Env["ORB_VAL_ORB_NAME"], Tag: s.Env["CIRCLE_TAG"]})
	if err != nil {
		return err
	}
	for _, f := range findings {
		fmt.Fprintln(s.Out, "not ok", f)
	}
	if len(findings) > 0 {
		return fmt.Errorf("%d review finding(s); skip a check with its RC code in exclude", len(findings))
	}
	fmt.Fprintln(s.Out, "ok: every review check passed or was excluded:", strings.Join(exclude, ","))
	return nil
}

var envRefRE = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

func (st *StandIns) orbToolsPublish(ctx context.Context, s StandInStep) error {
	fmt.Fprintln(s.Out, "Preparing to publish your orb.")
	token := s.Env[s.Env["ORB_VAL_ORB_PUB_TOKEN"]]
	if token == "" {
		return fmt.Errorf("No Orb Publishing Token detected.\nPlease set the CIRCLE_TOKEN environment variable.\nAborting deployment.")
	}
	source, err := os.ReadFile(orbFile(s))
	if err != nil {
		return err
	}
	name := s.Env["ORB_VAL_ORB_NAME"]
	switch s.Env["ORB_VAL_PUB_TYPE"] {
	case "production":
		tag := s.Env["CIRCLE_TAG"]
		if tag == "" {
			return fmt.Errorf("Production release detected!\nNo tag detected. Exiting.")
		}
		re, err := regexp.Compile(s.Env["ORB_VAL_TAG_PATTERN"])
		if err != nil || !re.MatchString(tag) {
			return fmt.Errorf("Malformed tag detected.\nTag: %s\nCurrent tag pattern: %s", tag, s.Env["ORB_VAL_TAG_PATTERN"])
		}
		version := regexp.MustCompile(`[0-9]+\.[0-9]+\.[0-9]+`).FindString(tag)
		fmt.Fprintf(s.Out, "  Production version: %s\n", version)
		return st.Registry.publish(s.Out, token, name, version, false, source)
	case "dev":
		for _, tag := range strings.Split(strings.ReplaceAll(s.Env["ORB_VAL_DEV_TAGS"], " ", ""), ",") {
			version := envRefRE.ReplaceAllStringFunc(tag, func(ref string) string {
				return s.Env[envRefRE.FindStringSubmatch(ref)[1]]
			})
			if err := st.Registry.publish(s.Out, token, name, version, true, source); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("No release type detected.")
}

func (st *StandIns) continuationContinue(ctx context.Context, s StandInStep) error {
	key := s.Env["CIRCLE_CONTINUATION_KEY"]
	if key == "" {
		return fmt.Errorf("CIRCLE_CONTINUATION_KEY is required. Make sure setup workflows are enabled.")
	}
	if s.Env["CONFIG_PATH"] == "" {
		return fmt.Errorf("CONFIG_PATH is required.")
	}
	params := []byte(s.Env["PARAMETERS"])
	if data, err := os.ReadFile(s.Path(s.Env["PARAMETERS"])); err == nil {
		params = data
	}
	if !json.Valid(params) {
		return fmt.Errorf("PARAMETERS aren't valid json")
	}
	config, err := os.ReadFile(s.Path(s.Env["CONFIG_PATH"]))
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"continuation-key": key, "configuration": string(config), "parameters": json.RawMessage(params)})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(st.APIURL, "/")+"/api/v2/pipeline/continue", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	fmt.Fprintf(s.Out, "%s\n", answer)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("the continue request was answered %d", res.StatusCode)
	}
	return nil
}

// OrbRegistry stands in for CircleCI's orb registry: it accepts publications with a token it
// knows, keeps every version, and refuses to publish a production version twice.
type OrbRegistry struct {
	Tokens []string // tokens allowed to publish

	mu        sync.Mutex
	published []PublishedOrb
}

// PublishedOrb is one published version.
type PublishedOrb struct {
	Name, Version string
	Dev           bool
	Source        []byte
}

// Published lists what was published, in order.
func (r *OrbRegistry) Published() []PublishedOrb {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.published)
}

func (r *OrbRegistry) publish(out io.Writer, token, name, version string, dev bool, source []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.Tokens, token) {
		return fmt.Errorf("Error: the token is not allowed to publish %s", name)
	}
	if version == "" || (dev && !strings.HasPrefix(version, "dev:")) {
		return fmt.Errorf("Error: %q is not a version to publish %s as", version, name)
	}
	if !dev && slices.ContainsFunc(r.published, func(p PublishedOrb) bool { return !p.Dev && p.Name == name && p.Version == version }) {
		return fmt.Errorf("Error: %s@%s already exists: a production version is published once", name, version)
	}
	r.published = append(r.published, PublishedOrb{Name: name, Version: version, Dev: dev, Source: slices.Clone(source)})
	fmt.Fprintf(out, "Orb `%s@%s` was published.\n", name, version)
	return nil
}
