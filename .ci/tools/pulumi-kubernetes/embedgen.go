//go:build ignore

// embedgen writes schema-embed.json and terraform-mapping-embed.json in the
// current directory from schema.json and terraform-mapping.json, setting the
// schema's top-level "version" to $VERSION. It does what upstream's
// cmd/pulumi-resource-kubernetes/generate.go does, with the standard library
// only, so that it runs in seconds. Usage: VERSION=4.32.0 go run embedgen.go
package main

import (
	"bytes"
	"encoding/json"
	"log"
	"os"
)

func main() {
	version := os.Getenv("VERSION")
	if version == "" {
		log.Fatal("embedgen: VERSION is not set")
	}

	var schema map[string]json.RawMessage
	readJSON("schema.json", &schema)
	if _, ok := schema["name"]; !ok {
		log.Fatal("embedgen: schema.json has no top-level name; is it a Pulumi package schema?")
	}
	v, err := json.Marshal(version)
	if err != nil {
		log.Fatal(err)
	}
	schema["version"] = v
	writeJSON("schema-embed.json", schema)

	var mapping json.RawMessage
	readJSON("terraform-mapping.json", &mapping)
	var compact bytes.Buffer
	if err := json.Compact(&compact, mapping); err != nil {
		log.Fatalf("embedgen: compacting terraform-mapping.json: %v", err)
	}
	if err := os.WriteFile("terraform-mapping-embed.json", compact.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func readJSON(path string, into any) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		log.Fatalf("embedgen: decoding %s: %v", path, err)
	}
}

func writeJSON(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatalf("embedgen: encoding %s: %v", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
