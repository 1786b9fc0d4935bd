// Package spool is a durable, ordered, bounded queue of messages on disk,
// one per output, so that findings a destination could not take survive
// until it answers again — across process restarts.
//
// Messages are appended to segment files (length, CRC-32C, payload; fsync
// per batch); a cursor file, replaced atomically, records how far delivery
// got. A torn tail from a crash is cut off on open. When the spool is full
// new messages are refused and counted, never silently lost. It must not
// know what the messages mean or where they go.
package spool
