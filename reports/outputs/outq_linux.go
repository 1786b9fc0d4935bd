package outputs

import (
	"fmt"
	"net"
	"syscall"
	"unsafe"
)

// unacked is how many bytes written to c the peer's TCP has not yet
// acknowledged (SIOCOUTQ: sent but unacknowledged plus not yet sent).
func unacked(c *net.TCPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int32
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, fmt.Errorf("SIOCOUTQ: %w", errno)
	}
	return int(n), nil
}

const canCountUnacked = true
