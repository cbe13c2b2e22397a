package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// sandbox is a pod's private directory tree, standing in for the container filesystem:
//
//	<dir>/rootfs        default working directory; every volumeMount's mountPath is a symlink
//	                    under it (rootfs/data/out -> ../../volumes/out) so "$KUBETUNE_ROOTFS/<mountPath>"
//	                    reaches the volume
//	<dir>/volumes/<v>   emptyDir, configMap and secret volumes
//	<dir>/logs          container logs
//	<dir>/kubeconfig    the ServiceAccount's credentials, when the pod has one
//
// Absolute mountPaths are not created on the host: processes share the host filesystem, and
// one pod's /data must not be another's. Containers find their volumes through
// KUBETUNE_VOLUME_<NAME> (name upper-cased, other characters as _) or under KUBETUNE_ROOTFS.
type sandbox struct {
	dir     string
	rootfs  string
	volumes map[string]string
}

func newSandbox(stateDir string, pod *corev1.Pod) (*sandbox, error) {
	dir := filepath.Join(stateDir, "pods", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
	s := &sandbox{dir: dir, rootfs: filepath.Join(dir, "rootfs"), volumes: map[string]string{}}
	for _, d := range []string{s.rootfs, filepath.Join(dir, "volumes"), filepath.Join(dir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *sandbox) remove() { _ = os.RemoveAll(s.dir) }

var nonEnvChars = regexp.MustCompile(`[^A-Z0-9_]`)

func volumeEnvName(vol string) string {
	return "KUBETUNE_VOLUME_" + nonEnvChars.ReplaceAllString(strings.ToUpper(vol), "_")
}

// prepareVolumes materialises the pod's volumes. Kinds without a local meaning (PVCs, projected
// tokens, CSI) become empty directories so pods that merely declare them still start.
func (s *sandbox) prepareVolumes(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod) error {
	for _, v := range pod.Spec.Volumes {
		if v.HostPath != nil {
			s.volumes[v.Name] = v.HostPath.Path
			if v.HostPath.Type != nil && *v.HostPath.Type == corev1.HostPathDirectoryOrCreate {
				if err := os.MkdirAll(v.HostPath.Path, 0o755); err != nil {
					return err
				}
			}
			continue
		}
		dir := filepath.Join(s.dir, "volumes", v.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		s.volumes[v.Name] = dir
		var files map[string][]byte
		var items []corev1.KeyToPath
		switch {
		case v.ConfigMap != nil:
			cm, err := client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				if isOptional(v.ConfigMap.Optional) {
					continue
				}
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
			files = map[string][]byte{}
			for k, val := range cm.Data {
				files[k] = []byte(val)
			}
			for k, val := range cm.BinaryData {
				files[k] = val
			}
			items = v.ConfigMap.Items
		case v.Secret != nil:
			sec, err := client.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			if err != nil {
				if isOptional(v.Secret.Optional) {
					continue
				}
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
			files = sec.Data
			items = v.Secret.Items
		}
		if err := writeVolumeFiles(dir, files, items); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
	}
	return nil
}

func writeVolumeFiles(dir string, files map[string][]byte, items []corev1.KeyToPath) error {
	if len(items) == 0 {
		for k := range files {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
	}
	for _, it := range items {
		data, ok := files[it.Key]
		if !ok {
			continue
		}
		p := filepath.Join(dir, filepath.Clean("/"+it.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// mountFor links each of the container's mounts under rootfs and returns the env that names
// the volumes.
func (s *sandbox) mountFor(c *corev1.Container, env *orderedEnv) error {
	env.set("KUBETUNE_ROOTFS", s.rootfs)
	for _, m := range c.VolumeMounts {
		src, ok := s.volumes[m.Name]
		if !ok {
			return fmt.Errorf("volumeMount %s refers to no volume", m.Name)
		}
		if m.SubPath != "" {
			src = filepath.Join(src, filepath.Clean("/"+m.SubPath))
			if err := os.MkdirAll(src, 0o755); err != nil {
				return err
			}
		}
		env.set(volumeEnvName(m.Name), src)
		link := filepath.Join(s.rootfs, filepath.Clean("/"+m.MountPath))
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return err
		}
		if cur, err := os.Readlink(link); err == nil && cur == src {
			continue
		}
		_ = os.Remove(link)
		if err := os.Symlink(src, link); err != nil {
			return err
		}
	}
	return nil
}

// workingDir uses the container's workingDir when it exists on this host (a repository
// checkout, say), else creates it inside rootfs; the default is rootfs itself.
func (s *sandbox) workingDir(c *corev1.Container) (string, error) {
	if c.WorkingDir == "" {
		return s.rootfs, nil
	}
	if st, err := os.Stat(c.WorkingDir); err == nil && st.IsDir() && filepath.IsAbs(c.WorkingDir) {
		return c.WorkingDir, nil
	}
	dir := filepath.Join(s.rootfs, filepath.Clean("/"+c.WorkingDir))
	return dir, os.MkdirAll(dir, 0o755)
}
