package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// imageEntry is what an image would contribute to a container: its ENTRYPOINT and default CMD.
type imageEntry struct {
	Entrypoint []string `json:"entrypoint"`
	Args       []string `json:"args,omitempty"`
}

type imageMap struct {
	file    string
	entries map[string]imageEntry
}

// loadImageMap reads {"<repository>": {"entrypoint": [...], "args": [...]}}; ${REPO} in any
// string is replaced by the repository root so the committed file works from any clone.
func loadImageMap(path, repo string) (*imageMap, error) {
	m := &imageMap{file: path, entries: map[string]imageEntry{}}
	if path == "" {
		return m, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("image map: %w", err)
	}
	if err := json.Unmarshal(raw, &m.entries); err != nil {
		return nil, fmt.Errorf("image map %s: %w", path, err)
	}
	sub := func(xs []string) {
		for i := range xs {
			xs[i] = strings.ReplaceAll(xs[i], "${REPO}", repo)
		}
	}
	for _, e := range m.entries {
		sub(e.Entrypoint)
		sub(e.Args)
	}
	return m, nil
}

// imageRepository drops the tag and digest: "ghcr.io/x/y:1.2@sha256:..." -> "ghcr.io/x/y".
func imageRepository(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

// argv applies Kubernetes' rules: command replaces the ENTRYPOINT (and drops the image's CMD);
// args alone replace the CMD. A container without command needs a mapped image.
func (m *imageMap) argv(image string, command, args []string) ([]string, error) {
	if len(command) > 0 {
		return append(append([]string{}, command...), args...), nil
	}
	e, ok := m.entries[imageRepository(image)]
	if !ok || len(e.Entrypoint) == 0 {
		return nil, fmt.Errorf("image %q has no entrypoint mapping in %s and the container sets no command; "+
			"add %q to the image map or set command", image, m.describe(), imageRepository(image))
	}
	if len(args) == 0 {
		args = e.Args
	}
	return append(append([]string{}, e.Entrypoint...), args...), nil
}

func (m *imageMap) describe() string {
	if m.file == "" {
		return "(no --image-map given)"
	}
	return m.file
}
