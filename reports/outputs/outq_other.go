//go:build !linux

package outputs

import (
	"errors"
	"net"
)

// unacked is not known outside Linux: a batch then counts once the
// connection is still healthy after the write.
func unacked(*net.TCPConn) (int, error) { return 0, errors.ErrUnsupported }

const canCountUnacked = false
