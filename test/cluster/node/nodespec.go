package main

import (
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// gpuResource is the extended resource the scheduler places training trials against.
const gpuResource corev1.ResourceName = "nvidia.com/gpu"

// setNodeSpec fills in what the scheduler and the apiserver read from a Node: capacity, the
// address and port of the kubelet API (used for pods/log), and healthy conditions. No taints, so
// ordinary pods schedule here without tolerations.
func setNodeSpec(n *corev1.Node, o options) {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(o.cpu),
		corev1.ResourceMemory: resource.MustParse(o.memory),
		corev1.ResourcePods:   resource.MustParse(o.pods),
	}
	if gpus := resource.MustParse(o.gpus); !gpus.IsZero() {
		capacity[gpuResource] = gpus
	}
	n.Labels = map[string]string{
		"kubernetes.io/hostname":    o.name,
		"kubernetes.io/os":          runtime.GOOS,
		"kubernetes.io/arch":        runtime.GOARCH,
		"type":                      "virtual-kubelet",
		"kubetune.dev/process-node": "true",
	}
	n.Spec.Taints = nil
	now := metav1.NewTime(time.Now())
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	n.Status = corev1.NodeStatus{
		Phase:       corev1.NodeRunning,
		Capacity:    capacity,
		Allocatable: capacity.DeepCopy(),
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: o.address},
			{Type: corev1.NodeHostName, Address: o.name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(o.kubeletPort)}},
		NodeInfo: corev1.NodeSystemInfo{
			OperatingSystem:         runtime.GOOS,
			Architecture:            runtime.GOARCH,
			KubeletVersion:          "v1.34.4-procnode",
			ContainerRuntimeVersion: "process://local",
		},
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "procnode is running pods as local processes"),
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", ""),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", ""),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", ""),
			cond(corev1.NodeNetworkUnavailable, corev1.ConditionFalse, "RouteCreated", "pods use loopback addresses"),
		},
	}
}
