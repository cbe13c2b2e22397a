package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
)

// ipAllocator hands out loopback addresses so each pod has its own IP to bind and be scraped on.
// Linux routes all of 127.0.0.0/8 to lo, so no interface setup is needed. Allocation goes round
// the range rather than reusing the lowest free address, so a just-released IP is not handed to
// the next pod while old connections to it may linger.
type ipAllocator struct {
	mu    sync.Mutex
	base  uint32
	size  uint32
	next  uint32
	inUse map[uint32]bool
}

func newIPAllocator(cidr string) (*ipAllocator, error) {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR: %w", err)
	}
	ip4 := n.IP.To4()
	if ip4 == nil || ip4[0] != 127 {
		return nil, fmt.Errorf("pod CIDR %s must be an IPv4 loopback range", cidr)
	}
	ones, bits := n.Mask.Size()
	return &ipAllocator{
		base:  binary.BigEndian.Uint32(ip4),
		size:  uint32(1) << (bits - ones),
		next:  1,
		inUse: map[uint32]bool{},
	}, nil
}

func (a *ipAllocator) allocate() (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range a.size {
		off := a.next
		a.next = (a.next + 1) % a.size
		last := byte(off)
		// Addresses ending in .0 and .255 work on lo but look like network/broadcast addresses.
		if last == 0 || last == 255 || a.inUse[off] {
			continue
		}
		a.inUse[off] = true
		return a.toIP(off), nil
	}
	return "", fmt.Errorf("no free pod IP left")
}

func (a *ipAllocator) release(ip string) {
	parsed := net.ParseIP(ip).To4()
	if parsed == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.inUse, binary.BigEndian.Uint32(parsed)-a.base)
}

func (a *ipAllocator) toIP(off uint32) string {
	b := make(net.IP, 4)
	binary.BigEndian.PutUint32(b, a.base+off)
	return b.String()
}
