// Package models loads and checks a CDP project: cdp.yml and the model files
// (sources, identity, traits, segments, destinations, syncs) under its model
// paths. It owns the typed model every other package builds on.
//
// Load parses each file with yaml.v3 into yaml.Node trees so every value keeps
// its line and column, interpolates ${VAR} and ${VAR:-default} in string
// values, fills a Project, and then checks it as a whole: unknown keys (with
// the closest known key as a hint), wrong shapes, vocabularies, references
// between files (sources, id types, traits, segments, destinations), and
// cycles among segments and expr traits. Every problem is collected and
// returned at once as Diagnostics, sorted by file, line and column, each
// rendering as `file:line:col: severity: message (hint: …)`.
//
// The loader never panics on bad input: files over MaxFileSize, documents
// nested too deeply, anchors that contain themselves and alias expansions
// ("billion laughs") are reported as errors. The accepted YAML is described
// in docs/yaml-reference.md.
package models
