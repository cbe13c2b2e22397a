package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// tokenLifetime outlasts any test run; tokens are bound to the pod, so they die with it anyway.
const tokenLifetime = 24 * 60 * 60

// wantsServiceAccount mirrors automountServiceAccountToken: the pod's setting wins over the
// ServiceAccount's.
func wantsServiceAccount(pod *corev1.Pod, sa *corev1.ServiceAccount) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	return sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken
}

// writeServiceAccountKubeconfig mints a pod-bound token through the TokenRequest API and writes
// a kubeconfig using it into the sandbox. The test apiserver runs without the ServiceAccount
// admission plugin, so pods get no projected token volume; this is how they still authenticate
// as their ServiceAccount and RBAC applies to them. Returns "" when the pod opts out.
func writeServiceAccountKubeconfig(ctx context.Context, client kubernetes.Interface, restCfg *rest.Config, pod *corev1.Pod, s *sandbox) (string, error) {
	name := pod.Spec.ServiceAccountName
	if name == "" {
		return "", nil
	}
	sa, err := client.CoreV1().ServiceAccounts(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("serviceaccount %s/%s: %w", pod.Namespace, name, err)
	}
	if !wantsServiceAccount(pod, sa) {
		return "", nil
	}
	exp := int64(tokenLifetime)
	tr, err := client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			ExpirationSeconds: &exp,
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for serviceaccount %s/%s: %w", pod.Namespace, name, err)
	}

	ca := restCfg.CAData
	if len(ca) == 0 && restCfg.CAFile != "" {
		if ca, err = os.ReadFile(restCfg.CAFile); err != nil {
			return "", err
		}
	}
	// Also lay out the in-cluster files, for tools that take a token file and CA path.
	saDir := filepath.Join(s.dir, "serviceaccount")
	if err := os.MkdirAll(saDir, 0o755); err != nil {
		return "", err
	}
	for file, data := range map[string][]byte{"token": []byte(tr.Status.Token), "namespace": []byte(pod.Namespace), "ca.crt": ca} {
		if err := os.WriteFile(filepath.Join(saDir, file), data, 0o600); err != nil {
			return "", err
		}
	}

	cluster := &clientcmdapi.Cluster{Server: restCfg.Host, CertificateAuthorityData: ca}
	if len(ca) == 0 {
		cluster.InsecureSkipTLSVerify = true
	}
	user := fmt.Sprintf("system:serviceaccount:%s:%s", pod.Namespace, name)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["cluster"] = cluster
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["default"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: user, Namespace: pod.Namespace}
	cfg.CurrentContext = "default"
	path := filepath.Join(s.dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", err
	}
	return path, nil
}
