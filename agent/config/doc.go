// Package config reads the config file that `scan` and `agent` share:
// strictly, with file:line:field errors, and with REACHAUDIT_<KEY>
// environment overrides. Each provider's section is decoded by its plugin,
// each output by the reports package, each schedule by the scheduler; this
// package only assembles them. It must not start anything.
package config
