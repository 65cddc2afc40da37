//go:build unix && !linux

package host

// mapNoReserve is Linux's MAP_NORESERVE; elsewhere the flag is not needed or not there.
const mapNoReserve = 0
