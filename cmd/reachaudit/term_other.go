//go:build !unix

package main

import "os"

// terminalWidth cannot ask the terminal on this system; COLUMNS or the
// default width apply.
func terminalWidth(*os.File) int { return 0 }
